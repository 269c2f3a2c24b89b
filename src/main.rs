//! The app's own entry point: the WASM bundle's `main` in the browser, or a desktop window
//! pointed at a running server for people who start the app with `dx`.

fn main() {
    otelscope_app::platform::launch_standalone();
}
