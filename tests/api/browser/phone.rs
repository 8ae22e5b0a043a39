//! A phone with an authenticator app, as independent of Twofold as the suite can make it: it
//! reads the QR code from a screenshot of the page (pixels, as a camera sees them), takes the
//! secret from the `otpauth://` URI in it, and gets its codes from Debian's `oathtool`, which
//! shares no code with Twofold's TOTP module.

use std::cell::Cell;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What an authenticator app learns from the QR code.
#[derive(Debug)]
pub struct Account {
    /// The whole `otpauth://` URI.
    pub uri: String,
    /// The label's issuer part, before the colon.
    pub issuer: String,
    /// The label's account part, after the colon.
    pub account: String,
    /// The base32 secret.
    pub secret: String,
}

/// A phone whose authenticator app holds one account.
pub struct Phone {
    pub account: Account,
    /// The last time step this phone gave a code for: a code is accepted once, so a person
    /// who needs a second code waits for the app to show a new one.
    last_step: Cell<u64>,
}

impl Phone {
    /// Points the phone's camera at a screenshot and scans the one QR code in it.
    #[track_caller]
    pub fn scan(screenshot_png: &[u8]) -> Self {
        let uri = read_qr_code(screenshot_png);
        Self {
            account: parse_otpauth(&uri),
            last_step: Cell::new(0),
        }
    }

    /// The code the app shows for a time step, computed by oathtool.
    pub fn code_at(&self, step: u64) -> String {
        let output = Command::new("oathtool")
            .args([
                "--totp",
                "--base32",
                &format!("--now=@{}", step * 30),
                &self.account.secret,
            ])
            .output()
            .expect("oathtool is installed by the test set-up (.ci/test)");
        assert!(output.status.success(), "oathtool failed: {output:?}");
        let code = String::from_utf8(output.stdout)
            .expect("utf-8")
            .trim()
            .to_owned();
        assert!(
            code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
            "six digits from oathtool: {code:?}"
        );
        code
    }

    /// The time step the phone's clock is in.
    pub fn current_step() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
            / 30
    }

    /// The step of the next code this phone gives: the current one, or the next one (which
    /// the server accepts for clock drift) when the current one was given already.
    pub fn next_step(&self) -> u64 {
        (self.last_step.get() + 1).max(Self::current_step())
    }

    /// A code the person has not typed before; waits for the app to show a new one when
    /// both the current and the next step's codes were used.
    pub async fn code(&self) -> String {
        loop {
            let step = self.next_step();
            if step <= Self::current_step() + 1 {
                self.last_step.set(step);
                return self.code_at(step);
            }
            actix_rt::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Decodes the one QR code in a PNG image, from its pixels.
#[track_caller]
pub fn read_qr_code(png_bytes: &[u8]) -> String {
    let (width, height, grey) = greyscale(png_bytes);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    let grids = image.detect_grids();
    let decoded = match grids.as_slice() {
        [grid] => grid.decode().ok().map(|(_, content)| content),
        _ => None,
    };
    decoded.unwrap_or_else(|| {
        let kept = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("unreadable-qr.png");
        let _ = std::fs::write(&kept, png_bytes);
        panic!(
            "expected one readable QR code in the screenshot, found {} (kept as {})",
            grids.len(),
            kept.display()
        )
    })
}

/// A PNG's pixels as luma (ITU-R BT.601 weights), row by row.
fn greyscale(png_bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("image size")];
    let info = reader.next_frame(&mut buffer).expect("the PNG's pixels");
    let channels = info.color_type.samples();
    let (width, height) = (info.width as usize, info.height as usize);
    let luma = |p: &[u8]| -> u8 {
        if channels < 3 {
            return p[0];
        }
        let y = 299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]);
        (y / 1000) as u8
    };
    let grey = buffer[..info.buffer_size()]
        .chunks_exact(info.line_size)
        .flat_map(|row| row[..width * channels].chunks_exact(channels).map(luma))
        .collect();
    (width, height, grey)
}

/// Reads an `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…` URI as an authenticator app
/// does, insisting on what Twofold promises: SHA-1, 6 digits, 30-second steps.
#[track_caller]
pub fn parse_otpauth(uri: &str) -> Account {
    let rest = uri
        .strip_prefix("otpauth://totp/")
        .unwrap_or_else(|| panic!("a TOTP URI: {uri}"));
    let (label, query) = rest.split_once('?').expect("a query");
    let label = percent_decode(label);
    let (issuer, account) = label.split_once(':').expect("ISSUER:ACCOUNT");
    let param = |name: &str| -> String {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| percent_decode(v))
            .unwrap_or_else(|| panic!("{name} in {uri}"))
    };
    assert_eq!(param("issuer"), issuer, "issuer parameter and label agree");
    assert_eq!(param("algorithm"), "SHA1");
    assert_eq!(param("digits"), "6");
    assert_eq!(param("period"), "30");
    let secret = param("secret");
    let bytes = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .expect("a base32 secret");
    assert_eq!(bytes.len(), 20, "a 160-bit secret");
    Account {
        uri: uri.to_owned(),
        issuer: issuer.to_owned(),
        account: account.to_owned(),
        secret,
    }
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .expect("utf-8")
        .into_owned()
}
