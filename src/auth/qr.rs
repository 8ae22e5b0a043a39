//! QR codes as compact inline SVG, drawn from qrcodegen's modules by our own code: one
//! `<path>` whose every segment is one horizontal run of dark modules, inside a quiet zone of
//! four modules.

use std::fmt::Write;

use qrcodegen::{QrCode, QrCodeEcc};

/// Modules of light margin around the code, as the QR standard asks.
pub const QUIET_ZONE: i32 = 4;

/// Renders `text` as an accessible inline SVG QR code (error correction level M).
pub fn svg(text: &str, label: &str) -> Result<String, qrcodegen::DataTooLong> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium)?;
    Ok(render(&qr, label))
}

fn render(qr: &QrCode, label: &str) -> String {
    let size = qr.size();
    let full = size + 2 * QUIET_ZONE;
    let mut path = String::with_capacity((size * size) as usize);
    // Each run of dark modules is a horizontal line one module thick, drawn along the middle
    // of its row (hence the `.5` on the first move). After `h`, the pen rests at the run's
    // end, so the next run is reached with a short relative move.
    let mut pen: Option<(i32, i32)> = None;
    for y in 0..size {
        let mut x = 0;
        while x < size {
            if !qr.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < size && qr.get_module(x, y) {
                x += 1;
            }
            let (sx, sy) = (start + QUIET_ZONE, y + QUIET_ZONE);
            let _ = match pen {
                None => write!(path, "M{sx} {sy}.5h{}", x - start),
                Some((px, py)) => write!(path, "m{} {}h{}", sx - px, sy - py, x - start),
            };
            pen = Some((x + QUIET_ZONE, sy));
        }
    }
    format!(
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full} {full}" "##,
            r##"role="img" aria-label="{label}" shape-rendering="crispEdges" class="qr">"##,
            r##"<rect width="{full}" height="{full}" fill="#fff"/>"##,
            r##"<path stroke="#000" stroke-width="1" d="{path}"/></svg>"##
        ),
        full = full,
        label = escape_attr(label),
        path = path
    )
}

fn escape_attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_is_one_path_with_a_quiet_zone_and_a_label() {
        let svg = svg(
            "otpauth://totp/Twofold:ada@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Twofold&algorithm=SHA1&digits=6&period=30",
            "QR code \"for\" <setup>",
        )
        .expect("fits");
        assert_eq!(svg.matches("<path").count(), 1);
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("aria-label=\"QR code &quot;for&quot; &lt;setup&gt;\""));
        // The first dark module (the finder pattern's corner) sits inside the quiet zone.
        assert!(svg.contains(r#"d="M4 4.5h7m"#), "{svg}");
        assert!(svg.len() < 6 * 1024, "{} bytes", svg.len());
    }
}
