//! `Error.stack` strings from Chromium (V8) and Firefox (SpiderMonkey, which
//! Safari's format also matches) turned into Sentry frames.
//!
//! Hand-written rather than regular expressions: the `regex` crate alone would
//! take a large part of the browser SDK's size budget.

use super::filter::{MAX_VALUE_CHARS, truncate_chars};
use ff_telemetry_wire::sentry::{Frame, Stacktrace};
use ff_telemetry_wire::text;

/// Frames kept from one stack, the newest ones (Sentry's own limit).
pub const MAX_FRAMES: usize = 50;

/// Parses an `Error.stack` string into a stack trace, oldest call first.
///
/// Lines that are not frames (the message line V8 puts first, blank lines) are
/// skipped. WebAssembly frames keep their module offset as `instruction_addr`.
/// File and function names are cut at [`MAX_VALUE_CHARS`] (a `data:` URL can be
/// a whole script). Returns `None` when no line is a frame.
///
/// ```
/// use ff_telemetry_browser::sentry::parse_stack;
/// let stack = "TypeError: x is undefined\n    at render (http://h/app.js:10:5)\n    at http://h/app.js:20:1";
/// let frames = parse_stack(stack).unwrap().frames;
/// assert_eq!(frames[0].lineno, Some(20));
/// assert_eq!(frames[1].function.as_deref(), Some("render"));
/// ```
pub fn parse_stack<'a>(stack: &'a str) -> Option<Stacktrace<&'a str>> {
    // Split on `\n` rather than `lines()`: every line is trimmed anyway (which
    // drops a `\r`), and `Lines` is one more iterator in the browser build.
    let is_v8 =
        text::split_ascii(stack, b'\n').any(|line| line.trim_ascii_start().starts_with("at "));
    let shorten = |text: &'a str| truncate_chars(text, MAX_VALUE_CHARS);
    // The browser lists the newest call first; the newest `MAX_FRAMES` are
    // kept. A loop rather than `collect()`: less generic code in the browser build.
    let mut frames = Vec::new();
    for line in text::split_ascii(stack, b'\n') {
        if frames.len() == MAX_FRAMES {
            break;
        }
        let line = line.trim_ascii();
        let frame = if is_v8 {
            parse_v8_line(line)
        } else {
            parse_gecko_line(line)
        };
        if let Some(frame) = frame {
            let frame = Frame {
                filename: frame.filename.map(shorten),
                function: frame.function.map(shorten),
                ..frame
            };
            frames.push(frame);
        }
    }
    if frames.is_empty() {
        return None;
    }
    reverse(&mut frames);
    Some(Stacktrace { frames })
}

/// Reverses `items` in place (oldest first), by iterators: `reverse()` and
/// `insert(0, …)` each leave a panic path with its message in the browser build.
fn reverse<T>(items: &mut [T]) {
    let (front, back) = items.split_at_mut(items.len() / 2);
    for (a, b) in front.iter_mut().zip(back.iter_mut().rev()) {
        std::mem::swap(a, b);
    }
}

/// `at fn (location)`, `at location`, `at async fn (location)`, `at new Fn (location)`,
/// `at eval (eval at outer (url:l:c), <anonymous>:l:c)`.
fn parse_v8_line(line: &str) -> Option<Frame<&str>> {
    let rest = line.strip_prefix("at ")?.trim_ascii();
    let rest = rest.strip_prefix("async ").unwrap_or(rest);
    let (function, location) = match rest
        .strip_suffix(')')
        .and_then(|r| text::split_once(r, " ("))
    {
        Some((function, location)) => (Some(function), location),
        None => (None, rest),
    };
    // `eval at outer (url:l:c), <anonymous>:l:c`: the eval'd code has no file of
    // its own, so report the place that called eval.
    let location = match location.strip_prefix("eval at ") {
        Some(eval) => {
            // Nested evals: the innermost parenthesis holds the real script.
            let outer = text::split_before(eval, b")").0;
            text::rsplit_once_ascii(outer, b'(').map_or(outer, |(_, inner)| inner)
        }
        None => location,
    };
    let mut frame = parse_location(location)?;
    if let Some(function) = function.filter(|f| !f.is_empty()) {
        frame.function = Some(function);
    }
    Some(frame)
}

/// `fn@location`, `@location`, `async*fn@location`, `fn@url line 3 > eval:1:5`.
fn parse_gecko_line(line: &str) -> Option<Frame<&str>> {
    let (function, location) = text::split_once(line, "@")?;
    // Firefox marks async boundaries with a cause: `async*fn`, `promise callback*fn`.
    let function = text::rsplit_once_ascii(function, b'*').map_or(function, |(_, f)| f);
    let location = match text::split_once(location, " line ") {
        // Code run by eval or `new Function`: `url line N > eval:l:c`. Report the
        // calling script and line.
        Some((url, after)) if !text::contains(after, ":wasm-function[") => {
            let line_number = text::parse_decimal(text::split_before(after, b" ").0)
                .and_then(|n| u32::try_from(n).ok());
            let function = if function.is_empty() {
                "eval"
            } else {
                function
            };
            return Some(Frame {
                filename: Some(url),
                function: Some(function),
                lineno: line_number,
                in_app: Some(is_in_app(url)),
                ..Frame::default()
            });
        }
        _ => location,
    };
    let mut frame = parse_location(location)?;
    if !function.is_empty() {
        frame.function = Some(function);
    }
    Some(frame)
}

/// `url:line:col`, `url:line`, `url`, `<anonymous>`, `native`, `[native code]`,
/// `url:wasm-function[N]:0xOFFSET`, `wasm-function[N]:0xOFFSET`.
fn parse_location(location: &str) -> Option<Frame<&str>> {
    let location = location.trim_ascii();
    if location.is_empty() {
        return None;
    }
    if let Some(frame) = parse_wasm_location(location) {
        return Some(frame);
    }
    let (rest, last) = split_number(location);
    let (filename, lineno, colno) = match last {
        Some(last) => match split_number(rest) {
            (file, Some(line)) => (file, Some(line), Some(last)),
            (file, None) => (file, Some(last), None),
        },
        None => (location, None, None),
    };
    if lineno.is_none() && !is_native(filename) && !text::contains(filename, "://") {
        // A frame location is a URL or a native marker; anything else is a
        // message line that happened to contain `@`.
        return None;
    }
    Some(Frame {
        filename: Some(filename),
        lineno,
        colno,
        in_app: Some(is_in_app(filename)),
        ..Frame::default()
    })
}

fn parse_wasm_location(location: &str) -> Option<Frame<&str>> {
    const PREFIX: &str = "wasm-function[";
    let (module, wasm) = text::split_once(location, PREFIX)?;
    let (index, addr) = text::split_once(wasm, "]:")?;
    if !index.bytes().all(|b| b.is_ascii_digit()) || !addr.starts_with("0x") {
        return None;
    }
    // `wasm-function[N]`, as it stands in the location.
    let start = module.len();
    let function = location.get(start..start + PREFIX.len() + index.len() + 1)?;
    let module = module.strip_suffix(':').unwrap_or(module);
    Some(Frame {
        filename: (!module.is_empty()).then_some(module),
        function: Some(function),
        instruction_addr: Some(addr),
        in_app: Some(true),
        ..Frame::default()
    })
}

/// Splits `text:123` into `("text", Some(123))`.
fn split_number(s: &str) -> (&str, Option<u32>) {
    match text::rsplit_once_ascii(s, b':') {
        Some((rest, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => (
            rest,
            text::parse_decimal(n).and_then(|n| u32::try_from(n).ok()),
        ),
        _ => (s, None),
    }
}

fn is_native(filename: &str) -> bool {
    matches!(filename, "<anonymous>" | "native" | "[native code]")
}

fn is_in_app(filename: &str) -> bool {
    !is_native(filename)
        && ![
            "chrome-extension://",
            "moz-extension://",
            "safari-web-extension://",
        ]
        .iter()
        .any(|scheme| filename.starts_with(scheme))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame<'a>(
        function: Option<&'a str>,
        filename: &'a str,
        line: u32,
        col: u32,
    ) -> Frame<&'a str> {
        Frame {
            filename: Some(filename),
            function,
            lineno: Some(line),
            colno: Some(col),
            in_app: Some(true),
            instruction_addr: None,
            addr_mode: None,
            platform: None,
        }
    }

    fn wasm<'a>(function: &'a str, filename: Option<&'a str>, addr: &'a str) -> Frame<&'a str> {
        Frame {
            filename,
            function: Some(function),
            instruction_addr: Some(addr),
            in_app: Some(true),
            lineno: None,
            colno: None,
            addr_mode: None,
            platform: None,
        }
    }

    const APP: &str = "http://127.0.0.1:8080/assets/index-4f1c2a.js";
    const WASM: &str = "http://127.0.0.1:8080/pkg/ff_telemetry_web_bg.wasm";

    #[test]
    fn chromium_stack_with_every_frame_form() {
        let stack = "TypeError: Cannot read properties of undefined (reading 'name')
    at InstanceCard.render (http://127.0.0.1:8080/assets/index-4f1c2a.js:412:27)
    at new Widget (http://127.0.0.1:8080/assets/index-4f1c2a.js:88:11)
    at Object.<anonymous> (http://127.0.0.1:8080/assets/index-4f1c2a.js:90:3)
    at Array.map (<anonymous>)
    at eval (eval at compile (http://127.0.0.1:8080/assets/index-4f1c2a.js:501:9), <anonymous>:1:14)
    at async loadInstances (http://127.0.0.1:8080/assets/index-4f1c2a.js:233:5)
    at async Promise.all (index 0)
    at eval (eval at run (eval at load (http://127.0.0.1:8080/assets/index-4f1c2a.js:7:2)), <anonymous>:1:1)
    at http://127.0.0.1:8080/assets/index-4f1c2a.js:12:1";
        let frames = parse_stack(stack).unwrap().frames;
        let want = vec![
            frame(None, APP, 12, 1),
            frame(Some("eval"), APP, 7, 2),
            frame(Some("loadInstances"), APP, 233, 5),
            frame(Some("eval"), APP, 501, 9),
            Frame {
                filename: Some("<anonymous>"),
                function: Some("Array.map"),
                in_app: Some(false),
                ..Frame::default()
            },
            frame(Some("Object.<anonymous>"), APP, 90, 3),
            frame(Some("new Widget"), APP, 88, 11),
            frame(Some("InstanceCard.render"), APP, 412, 27),
        ];
        assert_eq!(frames, want);
    }

    #[test]
    fn chromium_wasm_frames_keep_their_offsets() {
        let stack = "RuntimeError: unreachable
    at ff_telemetry_web::api::capture::h1a2b3c (http://127.0.0.1:8080/pkg/ff_telemetry_web_bg.wasm:wasm-function[421]:0x3f2a1)
    at http://127.0.0.1:8080/pkg/ff_telemetry_web_bg.wasm:wasm-function[17]:0x1a2b
    at wasm://wasm/00a1b2c3:wasm-function[12]:0x99
    at wasm-function[3]:0x10
    at Telemetry.capture (http://127.0.0.1:8080/pkg/ff_telemetry_web.js:301:14)";
        let frames = parse_stack(stack).unwrap().frames;
        let js = "http://127.0.0.1:8080/pkg/ff_telemetry_web.js";
        let want = vec![
            frame(Some("Telemetry.capture"), js, 301, 14),
            wasm("wasm-function[3]", None, "0x10"),
            wasm("wasm-function[12]", Some("wasm://wasm/00a1b2c3"), "0x99"),
            wasm("wasm-function[17]", Some(WASM), "0x1a2b"),
            wasm(
                "ff_telemetry_web::api::capture::h1a2b3c",
                Some(WASM),
                "0x3f2a1",
            ),
        ];
        assert_eq!(frames, want);
    }

    #[test]
    fn firefox_stack_with_every_frame_form() {
        let stack = format!(
            "InstanceCard.prototype.render@{APP}:412:27
Widget@{APP}:88:11
loadInstances/<@{APP}:90:3
async*loadInstances@{APP}:233:5
compile@{APP} line 501 > eval:1:14
@{APP} line 7 > Function:2:3
ff_telemetry_web::api::capture::h1a2b3c@{WASM}:wasm-function[421]:0x3f2a1
@{APP}:12:1
"
        );
        let frames = parse_stack(&stack).unwrap().frames;
        let eval = |function: &'static str, line| Frame {
            filename: Some(APP),
            function: Some(function),
            lineno: Some(line),
            in_app: Some(true),
            ..Frame::default()
        };
        let want = vec![
            frame(None, APP, 12, 1),
            wasm(
                "ff_telemetry_web::api::capture::h1a2b3c",
                Some(WASM),
                "0x3f2a1",
            ),
            eval("eval", 7),
            eval("compile", 501),
            frame(Some("loadInstances"), APP, 233, 5),
            frame(Some("loadInstances/<"), APP, 90, 3),
            frame(Some("Widget"), APP, 88, 11),
            frame(Some("InstanceCard.prototype.render"), APP, 412, 27),
        ];
        assert_eq!(frames, want);
    }

    #[test]
    fn firefox_wasm_instantiated_from_script_is_kept_as_is() {
        let stack = format!("@{APP} line 2 > WebAssembly.instantiate:wasm-function[12]:0x1a2b\n");
        let frames = parse_stack(&stack).unwrap().frames;
        let module = format!("{APP} line 2 > WebAssembly.instantiate");
        assert_eq!(frames, [wasm("wasm-function[12]", Some(&module), "0x1a2b")]);
    }

    #[test]
    fn windows_line_endings_parse_the_same() {
        let v8 = "Error: x\n    at f (http://h/app.js:1:2)\n    at http://h/app.js:3:4\n";
        let gecko = "f@http://h/app.js:1:2\n@http://h/app.js:3:4";
        for stack in [v8, gecko] {
            let unix = parse_stack(stack).unwrap();
            assert_eq!(unix.frames.len(), 2, "{stack}");
            assert_eq!(parse_stack(&stack.replace('\n', "\r\n")), Some(unix));
        }
    }

    #[test]
    fn safari_native_and_extension_frames_are_not_in_app() {
        let stack = "forEach@[native code]\nglobal code@http://h/app.js:1:1\nx@chrome-extension://abc/c.js:3:4";
        let frames = parse_stack(stack).unwrap().frames;
        let in_app: Vec<_> = frames.iter().map(|f| f.in_app).collect();
        assert_eq!(in_app, [Some(false), Some(true), Some(false)]);
        assert_eq!(frames[2].function, Some("forEach"));
    }

    #[test]
    fn message_lines_are_not_frames() {
        // V8 message lines may contain `@` or look like a location.
        let v8 =
            "Error: mail bob@example.com failed\n  more message text\n    at f (http://h/a.js:1:2)";
        let frames = parse_stack(v8).unwrap().frames;
        assert_eq!(frames, [frame(Some("f"), "http://h/a.js", 1, 2)]);
        assert_eq!(parse_stack("Error: bob@example.com"), None);
        assert_eq!(parse_stack(""), None);
        assert_eq!(parse_stack("no frames here"), None);
    }

    #[test]
    fn huge_file_names_are_cut() {
        let data_url = format!("data:text/javascript;base64,{}", "A".repeat(5_000));
        let stack = format!("    at f ({data_url}:1:2)");
        let frames = parse_stack(&stack).unwrap().frames;
        let filename = frames[0].filename.unwrap();
        assert_eq!(filename.len(), MAX_VALUE_CHARS);
        assert!(data_url.starts_with(filename));
    }

    #[test]
    fn long_stacks_keep_the_newest_frames() {
        let stack: String = (1..=60)
            .map(|n| format!("    at f{n} (http://h/a.js:{n}:1)\n"))
            .collect();
        let frames = parse_stack(&stack).unwrap().frames;
        assert_eq!(frames.len(), MAX_FRAMES);
        assert_eq!(frames.last().unwrap().function, Some("f1"));
        assert_eq!(frames[0].function, Some("f50"));
    }
}
