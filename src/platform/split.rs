//! The browser's split points (`--features split`): each loads its module's wasm file on first
//! use and returns the module's draw function, after `wasm-split-cli` has moved everything only
//! they reach into `split_<module>.wasm`.

use wasm_split_helpers::{wasm_split, SplitLoaderError};

use crate::views::lazy::{
    draw_flame, draw_insights, draw_logs, draw_metrics, draw_search, draw_services, draw_trace,
    Draw, ModuleMissing,
};

/// Pages of split modules load them before they draw.
pub(crate) const SPLIT_MODULES: bool = true;

/// The draw function of module `name` (`flame`, `search`, `metrics`, else insights), once its
/// file is in.
pub(crate) async fn load_module(name: Option<&'static str>) -> Result<Draw, ModuleMissing> {
    let loaded = match name {
        Some("flame") => flame().await,
        Some("search") => search().await,
        Some("metrics") => metrics().await,
        Some("logs") => logs().await,
        Some("trace") => trace().await,
        Some("services") => services().await,
        _ => insights().await,
    };
    loaded.map_err(|_| ModuleMissing)
}

#[wasm_split(flame, fallible)]
fn flame() -> Result<Draw, SplitLoaderError> {
    Ok(draw_flame)
}

#[wasm_split(search, fallible)]
fn search() -> Result<Draw, SplitLoaderError> {
    Ok(draw_search)
}

#[wasm_split(metrics, fallible)]
fn metrics() -> Result<Draw, SplitLoaderError> {
    Ok(draw_metrics)
}

#[wasm_split(logs, fallible)]
fn logs() -> Result<Draw, SplitLoaderError> {
    Ok(draw_logs)
}

#[wasm_split(trace, fallible)]
fn trace() -> Result<Draw, SplitLoaderError> {
    Ok(draw_trace)
}

#[wasm_split(insights, fallible)]
fn insights() -> Result<Draw, SplitLoaderError> {
    Ok(draw_insights)
}

#[wasm_split(services, fallible)]
fn services() -> Result<Draw, SplitLoaderError> {
    Ok(draw_services)
}
