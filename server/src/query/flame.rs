//! Plain folded stacks (`a;b;c 123` lines by text), the form imported and CPU profiles take;
//! span-derived flame graphs are `stacks::StackTree`.

use std::collections::BTreeMap;

/// Folded stacks: `frame;frame;frame` → value. Ordered, so output is deterministic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Folded {
    pub stacks: BTreeMap<String, u64>,
    /// How many traces (or profiles) were folded in.
    pub traces: u64,
}

impl Folded {
    /// The folded text (`a;b;c 123` lines), the format inferno and speedscope read.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (stack, value) in &self.stacks {
            out.push_str(stack);
            out.push(' ');
            out.push_str(&value.to_string());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_one_line_per_stack_in_order() {
        let folded = Folded {
            stacks: [("b;c".to_owned(), 2), ("a".to_owned(), 1)].into_iter().collect(),
            traces: 1,
        };
        assert_eq!(folded.to_text(), "a 1\nb;c 2\n");
    }
}
