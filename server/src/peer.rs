//! Who a request comes from: the TCP peer, or, when the peer is a reverse proxy named by
//! `--trusted-proxy`, the address it puts in `X-Forwarded-For`. Anyone can send that header,
//! so it is believed only from a trusted peer; otherwise one client could pose as many (and
//! dodge the wrong-key throttle) or as another (and get it throttled).

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::HeaderMap;

/// The client address `conn` found for a request (a request extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// `--trusted-proxy` networks (`ADDR` or `ADDR/BITS`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<[Network]>);

/// An address and prefix length, e.g. 10.0.0.0/8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Network {
    addr: IpAddr,
    bits: u8,
}

/// A `--trusted-proxy` value that is not an address or network.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("--trusted-proxy {0:?} is not an IP address or network (e.g. 10.0.0.1 or 10.0.0.0/8)")]
pub struct BadNetwork(String);

impl TrustedProxies {
    /// Parses `--trusted-proxy` values.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<TrustedProxies, BadNetwork> {
        let networks =
            values.iter().map(|v| parse_network(v.as_ref())).collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies(networks.into()))
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The client of a request that reached us from `peer`: `peer` itself unless it is
    /// trusted; then the nearest `X-Forwarded-For` hop that is not a trusted proxy (the
    /// entries further left were written by the client and prove nothing).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for hop in hops.iter().rev() {
            let Ok(hop) = hop.trim().parse::<IpAddr>() else { break };
            client = hop.to_canonical();
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.bits),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.bits),
            _ => false,
        }
    }
}

/// Whether the first `bits` bits of `a` and `b` agree.
fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

fn parse_network(text: &str) -> Result<Network, BadNetwork> {
    let bad = || BadNetwork(text.to_owned());
    let (addr, bits) = match text.trim().split_once('/') {
        Some((addr, bits)) => (addr, Some(bits)),
        None => (text.trim(), None),
    };
    let addr = addr.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(bits) => bits.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(bad)?,
        None => max,
    };
    Ok(Network { addr, bits })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_match() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.7", "fd00::/8"]).unwrap();
        for yes in ["10.1.2.3", "192.0.2.7", "fd12::1", "::ffff:10.0.0.1"] {
            assert!(trusted.contains(ip(yes)), "{yes}");
        }
        for no in ["11.0.0.1", "192.0.2.8", "fe80::1", "127.0.0.1"] {
            assert!(!trusted.contains(ip(no)), "{no}");
        }
        assert!(TrustedProxies::parse(&["10.0.0.1/33"]).is_err());
        assert!(TrustedProxies::parse(&["proxy.example"]).is_err());
        let odd = TrustedProxies::parse(&["10.0.0.0/9"]).unwrap();
        assert!(odd.contains(ip("10.127.0.1")) && !odd.contains(ip("10.128.0.1")));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_peer() {
        let trusted = TrustedProxies::parse(&["10.0.0.1", "10.0.0.2"]).unwrap();
        let mut headers = HeaderMap::new();
        headers
            .insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 203.0.113.9, 10.0.0.2"));
        assert_eq!(trusted.client(ip("198.51.100.1"), &headers), ip("198.51.100.1"));
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &headers),
            ip("203.0.113.9"),
            "nearest untrusted"
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(trusted.client(ip("10.0.0.1"), &headers), ip("10.0.0.1"));
        assert_eq!(trusted.client(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
    }
}
