//! The console in a real headless Chromium (Debian's `chromium` and `chromedriver`, installed
//! by `make browser-deps`), driven over WebDriver against the real `switchyard serve`.

mod browser;
mod console_events;
mod console_operator;
mod console_serving;
mod embed;
mod operations;
