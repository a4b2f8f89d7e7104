//! Tests of the picture module.

use super::figures::{GRID_BACKGROUND, GRID_BAD_TILE, ticks, view_range};
use super::font::glyph;
use super::*;

#[test]
fn tile_places_panels_three_to_a_row() {
    let a = Canvas::new(2, 3, [1, 1, 1]);
    let b = Canvas::new(4, 1, [2, 2, 2]);
    let t = tile(&[a.clone(), b, a.clone(), a], 3);
    assert_eq!((t.width, t.height), (12, 6));
    assert_eq!(t.get(0, 0), Some([1, 1, 1]));
    assert_eq!(t.get(4, 0), Some([2, 2, 2]));
    assert_eq!(t.get(4, 1), Some([255, 255, 255]), "below the short panel");
    assert_eq!(t.get(9, 2), Some([1, 1, 1]));
    assert_eq!(t.get(0, 5), Some([1, 1, 1]), "second row");
    assert_eq!(t.get(5, 5), Some([255, 255, 255]));
}

/// A fresh, empty scratch directory for one test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pse-picture-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Writes a PNG with the given colour type and raw data via `png`.
fn write_raw_png(
    path: &Path,
    w: u32,
    h: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    palette: Option<&[u8]>,
    data: &[u8],
) {
    let file = File::create(path).expect("create");
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(color);
    enc.set_depth(depth);
    if let Some(p) = palette {
        enc.set_palette(p.to_vec());
    }
    let mut writer = enc.write_header().expect("header");
    writer.write_image_data(data).expect("data");
    writer.finish().expect("finish");
}

#[test]
fn gray_round_trip_through_png() {
    let dir = scratch_dir("round-trip");
    let (w, h) = (13usize, 7usize);
    let pixels: Vec<f32> = (0..w * h)
        .map(|i| ((i * 37) % 101) as f32 / 100.0)
        .collect();
    let mut canvas = Canvas::new(w as u32, h as u32, [9, 9, 9]);
    canvas.blit_gray(0, 0, &pixels, w, h, 1).expect("blit");
    let path = dir.join("gray.png");
    canvas.write_png(&path).expect("write");
    let back = read_gray_png(&path, w as u32, h as u32).expect("read");
    assert_eq!(back.len(), pixels.len());
    for (a, b) in pixels.iter().zip(&back) {
        assert!((a - b).abs() <= 1.0 / 255.0, "{a} vs {b}");
    }
    // The atomic write left no temporary file behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("gray.png")]);
    // Overwriting an existing picture works too.
    Canvas::new(w as u32, h as u32, [255, 255, 255])
        .write_png(&path)
        .expect("overwrite");
    let white = read_gray_png(&path, w as u32, h as u32).expect("read");
    assert!(white.iter().all(|&v| (v - 1.0).abs() < 1e-6));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn blit_gray_scales_clamps_and_checks_length() {
    let mut canvas = Canvas::new(6, 4, [1, 2, 3]);
    canvas
        .blit_gray(1, 1, &[0.0, 1.0, f32::NAN, 7.0, -1.0, 0.5], 3, 2, 1)
        .expect("blit");
    assert_eq!(canvas.get(1, 1), Some([0, 0, 0]));
    assert_eq!(canvas.get(2, 1), Some([255, 255, 255]));
    assert_eq!(canvas.get(3, 1), Some([0, 0, 0]));
    assert_eq!(canvas.get(1, 2), Some([255, 255, 255]));
    assert_eq!(canvas.get(2, 2), Some([0, 0, 0]));
    assert_eq!(canvas.get(3, 2), Some([128, 128, 128]));
    assert_eq!(canvas.get(0, 0), Some([1, 2, 3]));
    let mut big = Canvas::new(8, 8, [0, 0, 0]);
    big.blit_gray(0, 0, &[1.0], 1, 1, 3).expect("blit");
    assert_eq!(big.get(2, 2), Some([255, 255, 255]));
    assert_eq!(big.get(3, 3), Some([0, 0, 0]));
    let err = big.blit_gray(0, 0, &[0.0; 5], 2, 3, 1).unwrap_err();
    assert!(matches!(
        err,
        PictureError::LengthMismatch {
            expected: 6,
            found: 5,
            ..
        }
    ));
}

#[test]
fn reads_other_png_layouts() {
    let dir = scratch_dir("layouts");
    let p = dir.join("g16.png");
    write_raw_png(
        &p,
        2,
        1,
        png::ColorType::Grayscale,
        png::BitDepth::Sixteen,
        None,
        &[0xFF, 0xFF, 0x80, 0x00],
    );
    let v = read_gray_png(&p, 2, 1).expect("16-bit gray");
    assert!((v[0] - 1.0).abs() < 1e-6 && (v[1] - 0.5).abs() < 1e-3);

    let p = dir.join("ga.png");
    write_raw_png(
        &p,
        2,
        1,
        png::ColorType::GrayscaleAlpha,
        png::BitDepth::Eight,
        None,
        &[255, 255, 255, 0],
    );
    let v = read_gray_png(&p, 2, 1).expect("gray alpha");
    assert_eq!(v, vec![1.0, 0.0]);

    let p = dir.join("rgb.png");
    write_raw_png(
        &p,
        3,
        1,
        png::ColorType::Rgb,
        png::BitDepth::Eight,
        None,
        &[255, 0, 0, 0, 255, 0, 0, 0, 255],
    );
    let v = read_gray_png(&p, 3, 1).expect("rgb");
    for (got, want) in v.iter().zip([0.299, 0.587, 0.114]) {
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }

    let p = dir.join("rgba16.png");
    let mut data = Vec::new();
    for _ in 0..4 {
        data.extend_from_slice(&[0xFF; 8]);
    }
    write_raw_png(
        &p,
        2,
        2,
        png::ColorType::Rgba,
        png::BitDepth::Sixteen,
        None,
        &data,
    );
    let v = read_gray_png(&p, 2, 2).expect("rgba16");
    assert!(v.iter().all(|&x| (x - 1.0).abs() < 1e-5));

    let p = dir.join("palette.png");
    // 1-bit palette: black, white; pixels 1,0,1,1 packed MSB first.
    write_raw_png(
        &p,
        4,
        1,
        png::ColorType::Indexed,
        png::BitDepth::One,
        Some(&[0, 0, 0, 255, 255, 255]),
        &[0b1011_0000],
    );
    let v = read_gray_png(&p, 4, 1).expect("palette");
    assert_eq!(v, vec![1.0, 0.0, 1.0, 1.0]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn wrong_size_and_non_png_errors_name_the_file() {
    let dir = scratch_dir("errors");
    let path = dir.join("small.png");
    Canvas::new(10, 12, [0, 0, 0])
        .write_png(&path)
        .expect("write");
    let err = read_gray_png(&path, 28, 28).unwrap_err();
    assert!(matches!(
        err,
        PictureError::WrongSize {
            expected: (28, 28),
            found: (10, 12),
            ..
        }
    ));
    let msg = err.to_string();
    assert!(msg.contains("small.png"), "{msg}");
    assert!(msg.contains("10x12") && msg.contains("28x28"), "{msg}");

    let text = dir.join("notes.png");
    std::fs::write(&text, b"certainly not a png file").expect("write");
    let err = read_gray_png(&text, 28, 28).unwrap_err();
    assert!(matches!(err, PictureError::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("notes.png"), "{err}");

    let missing = dir.join("absent.png");
    let err = read_gray_png(&missing, 28, 28).unwrap_err();
    assert!(matches!(err, PictureError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("absent.png"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn write_into_missing_dir_fails_clearly() {
    let dir = scratch_dir("missing");
    let path = dir.join("no/such/dir/out.png");
    let err = Canvas::new(4, 4, [0, 0, 0]).write_png(&path).unwrap_err();
    assert!(matches!(err, PictureError::MissingDir { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("out.png") && msg.contains("does not exist"),
        "{msg}"
    );
    assert!(!dir.join("no").exists());

    let err = Canvas::new(4, 4, [0, 0, 0])
        .write_png(&dir.join(".."))
        .unwrap_err();
    assert!(matches!(err, PictureError::InvalidPath { .. }), "{err:?}");

    let mut broken = Canvas::new(4, 4, [0, 0, 0]);
    broken.rgb.pop();
    let err = broken.write_png(&dir.join("broken.png")).unwrap_err();
    assert!(
        matches!(err, PictureError::LengthMismatch { .. }),
        "{err:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Horizontal extent `(min_x, max_x)` of pixels that differ from `bg`.
fn ink_extent(canvas: &Canvas, bg: Rgb) -> Option<(u32, u32)> {
    let mut extent: Option<(u32, u32)> = None;
    for y in 0..canvas.height {
        for x in 0..canvas.width {
            if canvas.get(x as i32, y as i32) != Some(bg) {
                extent = Some(match extent {
                    None => (x, x),
                    Some((a, b)) => (a.min(x), b.max(x)),
                });
            }
        }
    }
    extent
}

#[test]
fn text_width_matches_drawn_ink() {
    assert_eq!(Canvas::text_width("", 1), 0);
    assert_eq!(Canvas::text_width("A", 1), GLYPH_W);
    assert_eq!(Canvas::text_width("AB", 1), GLYPH_ADVANCE + GLYPH_W);
    assert_eq!(Canvas::text_width("AB", 3), 3 * (GLYPH_ADVANCE + GLYPH_W));
    assert_eq!(Canvas::text_width("AB", 0), Canvas::text_width("AB", 1));
    assert_eq!(
        Canvas::text_width("ABC\nA", 2),
        Canvas::text_width("ABC", 2)
    );
    assert_eq!(Canvas::text_height("A", 2), 2 * GLYPH_H);
    assert_eq!(Canvas::text_height("A\nB", 1), LINE_HEIGHT + GLYPH_H);
    // "M" and "W" have ink in the first and last glyph columns, so the
    // drawn ink spans exactly `text_width`.
    for (text, scale) in [("MW", 1), ("WMMW", 2), ("Ankle boot M", 3)] {
        let bg = [255, 255, 255];
        let mut c = Canvas::new(400, 40, bg);
        c.draw_text(4, 3, text, [0, 0, 0], scale);
        let (lo, hi) = ink_extent(&c, bg).expect("ink");
        assert_eq!(lo, 4);
        assert_eq!(hi - lo + 1, Canvas::text_width(text, scale), "{text}");
    }
}

#[test]
fn font_covers_printable_ascii() {
    for code in 0x21u8..=0x7E {
        let g = glyph(char::from(code));
        assert!(g.iter().any(|&row| row != 0), "glyph {code:#x} is blank");
        assert!(g.iter().all(|&row| row < 32));
    }
    assert!(glyph(' ').iter().all(|&row| row == 0));
    assert_eq!(glyph('é'), glyph('?'));
    // Distinct characters have distinct bitmaps.
    for a in 0x20u8..=0x7E {
        for b in (a + 1)..=0x7E {
            assert_ne!(glyph(char::from(a)), glyph(char::from(b)), "{a} {b}");
        }
    }
}

#[test]
fn drawing_clips_and_ignores_bad_input() {
    let mut c = Canvas::new(10, 10, [0, 0, 0]);
    c.set(-1, 3, [255, 0, 0]);
    c.set(10, 3, [255, 0, 0]);
    c.fill_rect(-5, -5, 8, 8, [1, 1, 1]);
    assert_eq!(c.get(2, 2), Some([1, 1, 1]));
    assert_eq!(c.get(3, 3), Some([0, 0, 0]));
    c.draw_line(i32::MIN, i32::MIN, i32::MAX, i32::MAX, [9, 9, 9]);
    assert_eq!(c.get(5, 5), Some([9, 9, 9]));
    c.draw_line(0, 9, 9, 9, [7, 7, 7]);
    assert!((0..10).all(|x| c.get(x, 9) == Some([7, 7, 7])));
    c.draw_line(-100, -100, -50, -1, [7, 7, 7]);
    c.draw_disc(f32::NAN, 1.0, 2.0, [255, 255, 255], 1.0);
    c.draw_disc(1e30, -1e30, 1e30, [255, 255, 255], 1.0);
    c.draw_text(i32::MAX - 3, i32::MIN, "xyz", [1, 2, 3], u32::MAX);
    c.blend(6, 3, [255, 255, 255], f32::NAN);
    assert_eq!(c.get(6, 3), Some([0, 0, 0]));
    c.blend(6, 3, [200, 100, 50], 0.5);
    assert_eq!(c.get(6, 3), Some([100, 50, 25]));
    assert_eq!(c.get(10, 0), None);
    let huge = Canvas::new(u32::MAX, 0, [0, 0, 0]);
    assert_eq!((huge.width, huge.height), (MAX_SIDE, 1));
}

#[test]
fn disc_is_round_and_blended() {
    let mut c = Canvas::new(21, 21, [0, 0, 0]);
    c.draw_disc(10.5, 10.5, 5.0, [255, 255, 255], 1.0);
    assert_eq!(c.get(10, 10), Some([255, 255, 255]));
    assert_eq!(c.get(10, 14), Some([255, 255, 255]));
    assert_eq!(c.get(10, 17), Some([0, 0, 0]));
    assert_eq!(c.get(14, 14), Some([0, 0, 0]));
    let mut c = Canvas::new(5, 5, [0, 0, 0]);
    c.draw_disc(2.5, 2.5, 1.5, [200, 200, 200], 0.5);
    assert_eq!(c.get(2, 2), Some([100, 100, 100]));
}

#[test]
fn scatter_checks_its_inputs() {
    let names = vec!["a".to_string(), "b".to_string()];
    let err = scatter(&[[0.0, 0.0], [1.0, 1.0]], &[0], &names, "t", 300).unwrap_err();
    assert!(matches!(
        err,
        PictureError::LengthMismatch {
            expected: 2,
            found: 1,
            ..
        }
    ));
    let err = scatter(&[[0.0, 0.0], [1.0, 1.0]], &[0, 2], &names, "t", 300).unwrap_err();
    assert!(matches!(
        err,
        PictureError::UnknownClass {
            point: 1,
            class: 2,
            names: 2
        }
    ));
    assert!(err.to_string().contains("class index 2"), "{err}");
}

#[test]
fn scatter_survives_degenerate_data() {
    let names: Vec<String> = (0..30).map(|i| format!("c{i}")).collect();
    let cases: Vec<Vec<[f32; 2]>> = vec![
        vec![],
        vec![[f32::NAN, 1.0], [f32::INFINITY, 0.0]],
        vec![[3.0, 3.0]; 50],
        vec![[1e30, -1e30], [-1e30, 1e30], [0.0, 0.0]],
        vec![[1e-30, 2e-30], [3e-30, 1e-30]],
    ];
    for pts in cases {
        let classes: Vec<u16> = (0..pts.len()).map(|i| (i % 30) as u16).collect();
        let c = scatter(&pts, &classes, &names, "", 240).expect("scatter");
        assert_eq!(c.height, 240);
        assert_eq!(c.rgb.len(), (c.width * c.height * 3) as usize);
    }
    let c = scatter(&[], &[], &[], "empty", 100).expect("scatter");
    assert_eq!((c.width, c.height), (240, 240));
}

#[test]
fn scatter_draws_points_in_class_colours() {
    let names = vec!["left".to_string(), "right".to_string()];
    let mut pts = Vec::new();
    let mut cls = Vec::new();
    for i in 0..200 {
        let t = i as f32 / 200.0;
        pts.push([-5.0 + t, t]);
        cls.push(0);
        pts.push([5.0 - t, t]);
        cls.push(1);
    }
    let c = scatter(&pts, &cls, &names, "two", 400).expect("scatter");
    let tinted = |col: Rgb| {
        (0..c.height as i32)
            .flat_map(|y| (0..400).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                c.get(x, y).is_some_and(|p| {
                    let dominant = |i: usize| (0..3).all(|j| j == i || p[i] > p[j]);
                    let main = (0..3).max_by_key(|&i| col[i]).unwrap_or(0);
                    dominant(main)
                })
            })
            .count()
    };
    assert!(tinted(PALETTE[0]) > 100);
    assert!(tinted(PALETTE[1]) > 100);
}

#[test]
fn ticks_are_round_and_labelled() {
    let t = ticks(-1.2, 3.7);
    let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(labels, ["-1", "0", "1", "2", "3"]);
    let t = ticks(-0.013, 0.021);
    assert!(t.iter().any(|(_, l)| l == "0.000"), "{t:?}");
    assert!(t.iter().all(|(_, l)| !l.starts_with("-0.000")));
    assert!(ticks(1.0, 1.0).is_empty());
    assert!(ticks(f32::NAN, 1.0).is_empty());
    let t = ticks(0.0, 5e7);
    assert!(t.iter().all(|(_, l)| l.contains('e')), "{t:?}");
}

#[test]
fn view_range_ignores_outliers() {
    let mut v: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
    v.push(1e9);
    v.push(f32::NAN);
    let (lo, hi) = view_range(v.into_iter());
    assert!(lo < 0.01 && lo > -0.1, "{lo}");
    assert!(hi > 0.99 && hi < 1.1, "{hi}");
    let (lo, hi) = view_range([2.0f32; 10].into_iter());
    assert!(lo < 2.0 && hi > 2.0);
    assert_eq!(view_range(std::iter::empty()), (-1.0, 1.0));
}

#[test]
fn image_grid_layout() {
    let img = vec![1.0f32; 4 * 3];
    let bad = vec![0.0f32; 5];
    let rows: Vec<(String, Vec<&[f32]>)> = vec![
        ("T-shirt/top".to_string(), vec![&img, &img, &img]),
        ("x".to_string(), vec![&img, &bad]),
    ];
    let c = image_grid(&rows, 4, 3, 2);
    let label_col = Canvas::text_width("T-shirt/top", 2) + 12;
    let row_h = 14; // text cap height 7 * 2 exceeds the 6-pixel tiles
    assert_eq!(c.width, 8 + label_col + 3 * 8 + 2 * 2 + 8);
    assert_eq!(c.height, 8 + 2 * row_h + 2 + 8);
    // First tile of the first row is white.
    let x0 = (8 + label_col) as i32;
    let y0 = 8 + (row_h as i32 - 6) / 2;
    assert_eq!(c.get(x0, y0), Some([255, 255, 255]));
    assert_eq!(c.get(x0 + 7, y0 + 5), Some([255, 255, 255]));
    assert_eq!(c.get(x0 + 8, y0), Some(GRID_BACKGROUND));
    // The wrong-sized image became a marked tile, not a panic.
    let bad_x = x0 + 10;
    let bad_y = y0 + row_h as i32 + 2;
    assert_eq!(c.get(bad_x + 3, bad_y), Some(GRID_BAD_TILE));
    let empty = image_grid(&[], 28, 28, 1);
    assert!(empty.width >= 1 && empty.height >= 1);
}
