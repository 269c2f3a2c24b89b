//! ClickHouse's HTTP interface, synchronously (the `Store` trait is called from the writer
//! thread and from `spawn_blocking`): statements as the POST body, inserts as `INSERT … FORMAT
//! RowBinary` in the URL with the rows as the body, answers read as RowBinary.
//!
//! Values go into statements as literals (18.16 has no server-side query parameters):
//! `quote` writes every byte that is not a plain printable ASCII character as `\xHH`, so no
//! input string can end its literal. Identifiers (the database) are checked by the config.

use std::time::Duration;

use super::super::StoreError;

/// The longest a statement may take, answer included, before the store says it is unavailable.
const TIMEOUT: Duration = Duration::from_secs(60);
/// The largest answer read (a trace's chunk, a page of candidates' chunks).
const MAX_ANSWER: u64 = 1 << 30;

/// One ClickHouse server's HTTP interface.
pub(super) struct Http {
    agent: ureq::Agent,
    base: String,
    /// `Authorization: Basic …` when a user was given.
    auth: Option<String>,
}

impl Http {
    pub fn new(host: &str, user: Option<(&str, &str)>) -> Http {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .build()
            .new_agent();
        let auth = user.map(|(user, password)| {
            use base64::Engine as _;
            let pair = format!("{user}:{password}");
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
        });
        Http { agent, base: format!("http://{host}/"), auth }
    }

    /// Runs `sql` (with its `FORMAT`, if it answers) and returns the answer's bytes.
    pub fn query(&self, sql: &str) -> Result<Vec<u8>, StoreError> {
        self.post(&self.base, sql.as_bytes())
    }

    /// `INSERT INTO table FORMAT RowBinary` with `rows` (RowBinary-encoded) as the body.
    pub fn insert(&self, table: &str, rows: &[u8]) -> Result<(), StoreError> {
        let statement = format!("INSERT INTO {table} FORMAT RowBinary");
        let query: String = form_urlencoded::byte_serialize(statement.as_bytes()).collect();
        let url = format!("{}?query={query}", self.base);
        self.post(&url, rows).map(drop)
    }

    fn post(&self, url: &str, body: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut request = self.agent.post(url);
        if let Some(auth) = &self.auth {
            request = request.header("Authorization", auth);
        }
        let mut answer = request
            .send(body)
            .map_err(|e| StoreError::Unavailable(format!("clickhouse unreachable: {e}")))?;
        let status = answer.status().as_u16();
        let bytes = answer
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .map_err(|e| StoreError::Unavailable(format!("clickhouse answer: {e}")))?;
        if status != 200 {
            let text = String::from_utf8_lossy(&bytes);
            let first = text.lines().next().unwrap_or_default();
            return Err(StoreError::Unavailable(format!("clickhouse ({status}): {first}")));
        }
        Ok(bytes)
    }
}

/// `s` as a ClickHouse string literal, quotes included.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for &b in s.as_bytes() {
        match b {
            b'\'' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02X}")),
        }
    }
    out.push('\'');
    out
}

/// Rows in RowBinary, one value after another in column order.
#[derive(Default)]
pub(super) struct Rows(pub Vec<u8>);

impl Rows {
    pub fn string(&mut self, s: impl AsRef<[u8]>) -> &mut Self {
        let s = s.as_ref();
        self.length(s.len());
        self.0.extend_from_slice(s);
        self
    }
    /// A length (of a string or an array) as RowBinary's varint.
    fn length(&mut self, n: usize) -> &mut Self {
        let mut n = n as u64;
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.0.push(byte);
                break;
            }
            self.0.push(byte | 0x80);
        }
        self
    }
    /// A `Nested(key, count)` column pair: `Array(UInt32)` of keys, then `Array(UInt64)` of
    /// counts.
    pub fn map_u32(&mut self, pairs: &[(u32, u64)]) -> &mut Self {
        self.length(pairs.len());
        for (key, _) in pairs {
            self.u32(*key);
        }
        self.counts(pairs.iter().map(|p| p.1))
    }
    /// A `Nested(bucket, count)` column pair: `Array(UInt16)` of keys, then `Array(UInt64)`.
    pub fn map_u16(&mut self, pairs: &[(u16, u64)]) -> &mut Self {
        self.length(pairs.len());
        for (key, _) in pairs {
            self.u16(*key);
        }
        self.counts(pairs.iter().map(|p| p.1))
    }
    fn counts(&mut self, counts: impl ExactSizeIterator<Item = u64>) -> &mut Self {
        self.length(counts.len());
        for count in counts {
            self.u64(count);
        }
        self
    }
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    /// A `Date`: days since the epoch.
    pub fn date(&mut self, days: u16) -> &mut Self {
        self.0.extend_from_slice(&days.to_le_bytes());
        self
    }
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.date(v)
    }
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Reads a RowBinary answer value by value; a short or malformed answer is an error.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }
    pub fn done(&self) -> bool {
        self.bytes.is_empty()
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.bytes.len() < n {
            return Err(StoreError::Corrupt("clickhouse answer ends early".into()));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn varint(&mut self) -> Result<u64, StoreError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(StoreError::Corrupt("clickhouse answer: a bad length".into()))
    }
    pub fn bytes(&mut self) -> Result<&'a [u8], StoreError> {
        let n = self.varint()?;
        self.take(usize::try_from(n).unwrap_or(usize::MAX))
    }
    pub fn string(&mut self) -> Result<String, StoreError> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }
    /// An `Array(String)`.
    pub fn strings(&mut self) -> Result<Vec<&'a [u8]>, StoreError> {
        let n = self.varint()?;
        (0..n).map(|_| self.bytes()).collect()
    }
    /// A `sumMap` answer, `Tuple(Array(UInt32), Array(UInt64))`, as pairs.
    pub fn map_u32(&mut self) -> Result<Vec<(u32, u64)>, StoreError> {
        let keys = (0..self.varint()?).map(|_| self.u32()).collect::<Result<Vec<_>, _>>()?;
        let counts = (0..self.varint()?).map(|_| self.u64()).collect::<Result<Vec<_>, _>>()?;
        Ok(keys.into_iter().zip(counts).collect())
    }
    /// A `sumMap` answer, `Tuple(Array(UInt16), Array(UInt64))`, as pairs.
    pub fn map_u16(&mut self) -> Result<Vec<(u16, u64)>, StoreError> {
        let keys = (0..self.varint()?).map(|_| self.u16()).collect::<Result<Vec<_>, _>>()?;
        let counts = (0..self.varint()?).map(|_| self.u64()).collect::<Result<Vec<_>, _>>()?;
        Ok(keys.into_iter().zip(counts).collect())
    }
    pub fn u8(&mut self) -> Result<u8, StoreError> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> Result<u32, StoreError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap_or_default()))
    }
    pub fn u16(&mut self) -> Result<u16, StoreError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap_or_default()))
    }
    pub fn u64(&mut self) -> Result<u64, StoreError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap_or_default()))
    }
    pub fn i64(&mut self) -> Result<i64, StoreError> {
        Ok(i64::from_le_bytes(self.take(8)?.try_into().unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_cannot_end_their_literal() {
        assert_eq!(quote("web"), "'web'");
        assert_eq!(quote("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(quote("x\n\u{0}é"), "'x\\x0A\\x00\\xC3\\xA9'");
    }

    #[test]
    fn row_binary_round_trips() {
        let mut rows = Rows::default();
        rows.string("hi").u64(7).i64(-3).u16(5).string(vec![b'x'; 300]);
        rows.map_u32(&[(1, 2), (70_000, 3)]).map_u16(&[]);
        let mut r = Reader::new(&rows.0);
        assert_eq!(r.string().unwrap(), "hi");
        assert_eq!(r.u64().unwrap(), 7);
        assert_eq!(r.i64().unwrap(), -3);
        assert_eq!(r.u16().unwrap(), 5);
        assert_eq!(r.bytes().unwrap().len(), 300);
        assert_eq!(r.map_u32().unwrap(), [(1, 2), (70_000, 3)]);
        assert!(r.map_u16().unwrap().is_empty());
        assert!(r.done());
        assert!(r.u64().is_err());
    }
}
