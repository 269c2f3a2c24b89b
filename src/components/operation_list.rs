//! `OperationList`: a service's operation names as a `datalist`, offered by an operation field.

use dioxus::prelude::*;

use crate::filters::InsightFilters;
use crate::hooks::{use_api, Loadable};
use crate::model::Operations;

/// The `datalist` `id` of `service`'s span names; `known`, when given, is kept equal to them
/// (a form matches what was typed against them).
#[component]
pub(crate) fn OperationList(
    id: &'static str,
    service: ReadSignal<String>,
    known: Option<Signal<Vec<String>>>,
) -> Element {
    let operations = use_api::<Operations>(move || {
        format!(
            "/api/v1/operations?{}",
            InsightFilters { service: service(), ..Default::default() }
        )
    });
    let names = match operations {
        Loadable::Ready(ops) => ops.operations,
        _ => Vec::new(),
    };
    use_effect(use_reactive!(|names| {
        if let Some(mut known) = known {
            known.set(names);
        }
    }));
    rsx! {
        datalist { id,
            for name in names {
                option { value: "{name}" }
            }
        }
    }
}

/// The known operation that `typed` names ignoring case and surrounding space, if one does.
pub(crate) fn known_operation<'a>(known: &'a [String], typed: &str) -> Option<&'a String> {
    let typed = typed.trim();
    known
        .iter()
        .find(|name| name.as_str() == typed)
        .or_else(|| known.iter().find(|name| name.to_lowercase() == typed.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::known_operation;

    #[test]
    fn a_typed_operation_is_matched_ignoring_case() {
        let known = ["GET /Checkout".to_owned(), "checkout".to_owned()];
        assert_eq!(known_operation(&known, " get /checkout "), Some(&known[0]));
        assert_eq!(known_operation(&known, "checkout"), Some(&known[1]), "an exact name wins");
        assert_eq!(known_operation(&known, "CHECKOUT"), Some(&known[1]));
        assert_eq!(known_operation(&known, "cart"), None);
    }
}
