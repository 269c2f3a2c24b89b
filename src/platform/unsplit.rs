//! Builds without split modules (desktop, SSR, tests, a browser build without `split`): every
//! page's code is in the one binary, so pages draw at once.

use crate::views::lazy::{draw_module, Draw, ModuleMissing};

/// Pages draw at once; nothing is loaded.
pub(crate) const SPLIT_MODULES: bool = false;

/// The draw function of module `name`, at once.
pub(crate) async fn load_module(name: Option<&'static str>) -> Result<Draw, ModuleMissing> {
    Ok(draw_module(name))
}
