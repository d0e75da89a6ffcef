//! The SDK's own WebAssembly module as a Sentry debug image, so that a crash
//! inside the SDK can be symbolicated.
//!
//! `cargo xtask build` writes a `build_id` custom section (16 bytes) into the
//! shipped module and the same one into the DWARF debug file it uploads with
//! `sentry-cli`. Sentry files that debug file under the id's first 16 bytes
//! read as a UUID (`sentry-cli debug-files check` prints it as `Debug ID`).
//! An event whose stack holds frames of the module names the module in
//! `debug_meta.images`, with that `debug_id`, and each such frame points into
//! it: `addr_mode: "rel:0"` (image 0, the only one) and its module offset as
//! `instruction_addr`, as `@sentry/wasm` does.

use ff_telemetry_wire::hyphenated;
use ff_telemetry_wire::sentry::{DebugImage, Frame};
use ff_telemetry_wire::text::hex_string;

use super::stacktrace::parse_stack;

/// The name of the debug file `cargo xtask build` keeps beside the shipped
/// module and uploads to Sentry (the image's `debug_file`).
pub const WASM_DEBUG_FILE_NAME: &str = "ff_telemetry_web.debug.wasm";

/// The debug image of the module this code runs in, from its `build_id`
/// custom section and a stack taken inside it (`new Error().stack` from a
/// function the module called): the module's URL is the file of that
/// stack's newest WebAssembly frame, as every later stack will show it.
/// `None` when the id is empty (a module built without one) or the stack
/// shows no WebAssembly frame.
///
/// ```
/// use ff_telemetry_browser::sentry::wasm_image;
/// let stack = "Error\n    at imports.wbg.__wbg_new (http://h/pkg/x.js:1:2)\n    \
///     at x::js::own_module (http://h/pkg/x_bg.wasm:wasm-function[7]:0x1f0)";
/// let image = wasm_image(&[0xab; 16], stack).unwrap();
/// assert_eq!(image.code_file, "http://h/pkg/x_bg.wasm");
/// assert_eq!(image.debug_id, "abababab-abab-abab-abab-abababababab");
/// ```
pub fn wasm_image(build_id: &[u8], stack_inside: &str) -> Option<DebugImage> {
    if build_id.is_empty() {
        return None;
    }
    let frames = parse_stack(stack_inside)?.frames;
    let code_file = frames
        .iter()
        .rev()
        .find(|f| f.instruction_addr.is_some())?
        .filename?;
    // The first 16 bytes, zero-padded when shorter, as `@sentry/wasm` pads
    // (the build writes exactly 16).
    let mut uuid = [0; 16];
    for (to, from) in uuid.iter_mut().zip(build_id) {
        *to = *from;
    }
    Some(DebugImage {
        debug_id: hyphenated(&uuid::Uuid::from_bytes(uuid)),
        code_id: hex_string(build_id),
        code_file: code_file.to_owned(),
        debug_file: WASM_DEBUG_FILE_NAME.to_owned(),
    })
}

/// Points the WebAssembly frames loaded from `image`'s file at it (image 0
/// of the event): `addr_mode: "rel:0"`, and the `native` platform that has
/// Sentry symbolicate them. Whether any frame was one of them (the event
/// then carries the image).
pub fn point_frames_at(frames: &mut [Frame<&str>], image: &DebugImage) -> bool {
    let mut any = false;
    for frame in frames {
        if frame.instruction_addr.is_some() && frame.filename == Some(image.code_file.as_str()) {
            frame.addr_mode = Some("rel:0");
            frame.platform = Some("native");
            any = true;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE: &str = "http://127.0.0.1:8080/assets/ff_telemetry_web_bg-4f1c2a.wasm";

    /// What `new Error().stack` says inside the module (Chromium).
    fn stack_inside() -> String {
        format!(
            "Error
    at imports.wbg.__wbg_new_8a6f238a6ece86ea (http://127.0.0.1:8080/assets/index-9c1d.js:1:2)
    at {MODULE}:wasm-function[88]:0x1f00
    at ff_telemetry_web::sentry::SentryClient::start ({MODULE}:wasm-function[12]:0x2a0)
    at Telemetry.init (http://127.0.0.1:8080/assets/index-9c1d.js:3:4)"
        )
    }

    #[test]
    fn the_image_is_named_by_the_build_id_as_sentry_cli_reads_it() {
        let build_id: Vec<u8> = (0..16).map(|n| n * 17).collect();
        let image = wasm_image(&build_id, &stack_inside()).unwrap();
        assert_eq!(
            image,
            DebugImage {
                // sentry-cli's `Debug ID`: the bytes in order, as a UUID.
                debug_id: "00112233-4455-6677-8899-aabbccddeeff".into(),
                code_id: "00112233445566778899aabbccddeeff".into(),
                code_file: MODULE.into(),
                debug_file: "ff_telemetry_web.debug.wasm".into(),
            }
        );
    }

    #[test]
    fn a_short_id_is_padded_a_long_one_cut_for_the_debug_id_only() {
        let short = wasm_image(&[0xab, 0xcd], &stack_inside()).unwrap();
        assert_eq!(short.debug_id, "abcd0000-0000-0000-0000-000000000000");
        assert_eq!(short.code_id, "abcd");
        let long = wasm_image(&[0x11; 20], &stack_inside()).unwrap();
        assert_eq!(long.debug_id, "11111111-1111-1111-1111-111111111111");
        assert_eq!(long.code_id, "11".repeat(20));
    }

    #[test]
    fn without_an_id_or_a_wasm_frame_there_is_no_image() {
        assert_eq!(wasm_image(&[], &stack_inside()), None);
        let js_only = "Error\n    at f (http://h/app.js:1:2)";
        assert_eq!(wasm_image(&[1; 16], js_only), None);
        assert_eq!(wasm_image(&[1; 16], ""), None);
    }

    #[test]
    fn only_the_modules_own_frames_point_into_it() {
        let image = wasm_image(&[1; 16], &stack_inside()).unwrap();
        let crash = format!(
            "RuntimeError: unreachable
    at {MODULE}:wasm-function[401]:0x3f2a1
    at other::f (http://127.0.0.1:8080/assets/app_bg.wasm:wasm-function[5]:0x99)
    at render (http://127.0.0.1:8080/assets/index-9c1d.js:10:5)"
        );
        let mut frames = parse_stack(&crash).unwrap().frames;
        assert!(point_frames_at(&mut frames, &image));
        let marks: Vec<_> = frames
            .iter()
            .map(|f| (f.instruction_addr, f.addr_mode, f.platform))
            .collect();
        assert_eq!(
            marks,
            [
                (None, None, None),
                (Some("0x99"), None, None),
                (Some("0x3f2a1"), Some("rel:0"), Some("native")),
            ]
        );
        let mut elsewhere =
            parse_stack("Error\n    at f (http://h/a_bg.wasm:wasm-function[1]:0x10)")
                .unwrap()
                .frames;
        assert!(!point_frames_at(&mut elsewhere, &image));
        assert_eq!(elsewhere[0].addr_mode, None);
    }
}
