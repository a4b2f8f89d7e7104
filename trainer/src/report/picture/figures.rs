//! The ready-made figures: labelled image grids, tiles of panels, latent scatter plots.

use super::*;

/// Background of [`image_grid`] pictures.
pub(super) const GRID_BACKGROUND: Rgb = [40, 40, 46];
/// Label colour of [`image_grid`] pictures.
const GRID_LABEL: Rgb = [235, 235, 235];
/// Fill of an [`image_grid`] tile whose pixel count is wrong.
pub(super) const GRID_BAD_TILE: Rgb = [110, 24, 24];

/// Lays out labelled rows of grayscale images, one row per entry of `rows`:
/// the row's label (left-aligned, vertically centred) followed by its images
/// left to right.
///
/// Every image is `img_w` x `img_h` pixels, row-major, values in `[0, 1]`
/// (0 = black, 1 = white, as in MNIST), drawn magnified by `scale` (0 counts
/// as 1) with 2-pixel gaps between images and rows, on a dark background.
/// Labels are drawn with the built-in font (twice as large when
/// `scale >= 2`). Rows may have different numbers of images. An image whose
/// length is not `img_w * img_h` is drawn as a dark red tile with a cross
/// rather than failing the whole picture.
///
/// Used for "samples per label" grids (each row a label such as
/// `"T-shirt/top"`) and interpolation strips (each row a label such as
/// `"3 -> 8"` followed by the decoded sequence).
pub fn image_grid(
    rows: &[(String, Vec<&[f32]>)],
    img_w: usize,
    img_h: usize,
    scale: u32,
) -> Canvas {
    const MARGIN: u32 = 8;
    const GAP: u32 = 2;
    let scale = scale.clamp(1, 64);
    let text_scale = if scale >= 2 { 2 } else { 1 };
    let side = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).saturating_mul(scale);
    let (tile_w, tile_h) = (side(img_w), side(img_h));
    let label_w = rows
        .iter()
        .map(|(label, _)| Canvas::text_width(label, text_scale))
        .max()
        .unwrap_or(0);
    let label_col = if label_w == 0 {
        0
    } else {
        label_w + 6 * text_scale
    };
    let cols = u32::try_from(rows.iter().map(|(_, imgs)| imgs.len()).max().unwrap_or(0))
        .unwrap_or(u32::MAX);
    let row_h = tile_h.max(7 * text_scale);
    let n_rows = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let span = |n: u32, each: u32| {
        n.saturating_mul(each.saturating_add(GAP))
            .saturating_sub(GAP)
    };
    let width = MARGIN
        .saturating_mul(2)
        .saturating_add(label_col)
        .saturating_add(span(cols, tile_w));
    let height = MARGIN.saturating_mul(2).saturating_add(span(n_rows, row_h));
    let mut canvas = Canvas::new(width, height, GRID_BACKGROUND);

    let mut y = i64::from(MARGIN);
    for (label, images) in rows {
        // Centre the cap height (7 font rows) on the row.
        let text_y = y + (i64::from(row_h) - 7 * i64::from(text_scale)) / 2;
        canvas.draw_text(
            clamp_i32(i64::from(MARGIN)),
            clamp_i32(text_y),
            label,
            GRID_LABEL,
            text_scale,
        );
        let tile_y = y + (i64::from(row_h) - i64::from(tile_h)) / 2;
        let mut x = i64::from(MARGIN) + i64::from(label_col);
        for image in images {
            let (tx, ty) = (clamp_i32(x), clamp_i32(tile_y));
            if canvas
                .blit_gray(tx, ty, image, img_w, img_h, scale)
                .is_err()
            {
                canvas.fill_rect(tx, ty, tile_w, tile_h, GRID_BAD_TILE);
                let (x1, y1) = (
                    clamp_i32(x + i64::from(tile_w) - 1),
                    clamp_i32(tile_y + i64::from(tile_h) - 1),
                );
                canvas.draw_line(tx, ty, x1, y1, GRID_LABEL);
                canvas.draw_line(tx, y1, x1, ty, GRID_LABEL);
            }
            x += i64::from(tile_w) + i64::from(GAP);
        }
        y += i64::from(row_h) + i64::from(GAP);
    }
    canvas
}

/// Saturating conversion for drawing coordinates.
fn clamp_i32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Categorical palette for classes: matplotlib's `tab10` followed by the
/// light half of `tab20`. Classes beyond 20 reuse the colours cyclically.
pub const PALETTE: [Rgb; 20] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
    [174, 199, 232],
    [255, 187, 120],
    [152, 223, 138],
    [255, 152, 150],
    [197, 176, 213],
    [196, 156, 148],
    [247, 182, 210],
    [199, 199, 199],
    [219, 219, 141],
    [158, 218, 229],
];

/// The panels side by side, `columns` to a row, on a white background (cells sized to the
/// largest panel, panels at their cells' top left; what falls outside [`MAX_SIDE`] is cut).
pub fn tile(panels: &[Canvas], columns: usize) -> Canvas {
    let columns = columns.max(1);
    let cw = panels.iter().map(|c| c.width).max().unwrap_or(1);
    let ch = panels.iter().map(|c| c.height).max().unwrap_or(1);
    let rows = panels.len().div_ceil(columns).max(1);
    let cols = columns.min(panels.len().max(1));
    let mut out = Canvas::new(cw * cols as u32, ch * rows as u32, [255, 255, 255]);
    for (i, panel) in panels.iter().enumerate() {
        let (x0, y0) = ((i % columns) as u32 * cw, (i / columns) as u32 * ch);
        for y in 0..panel.height.min(out.height.saturating_sub(y0)) {
            let src = (y * panel.width * 3) as usize;
            let dst = (((y0 + y) * out.width + x0) * 3) as usize;
            let n = (panel.width.min(out.width.saturating_sub(x0)) * 3) as usize;
            out.rgb[dst..dst + n].copy_from_slice(&panel.rgb[src..src + n]);
        }
    }
    out
}

/// The palette colour of class `class`.
pub fn class_color(class: usize) -> Rgb {
    PALETTE[class % PALETTE.len()]
}

const INK: Rgb = [34, 34, 34];
const AXIS: Rgb = [90, 90, 90];
const GRID_LINE: Rgb = [232, 232, 232];
const WHITE: Rgb = [255, 255, 255];

/// A 2-D scatter plot of `points` coloured by class, with a title, axes
/// with numeric ticks, light grid lines and a legend (colour swatch + class
/// name) to the right of the plot.
///
/// `classes[i]` indexes `class_names` and picks the colour of `points[i]`
/// from [`PALETTE`]. The picture is `size` pixels tall and `size` plus the
/// legend width wide (`size` is clamped to `240..=8192`); text is drawn
/// twice as large from `size >= 700` on.
///
/// The view is chosen robustly: non-finite points are ignored, and each
/// axis spans its 0.5 %..99.5 % quantiles plus a 5 % margin, so a few
/// outliers do not squash the plot (points outside the view are not drawn).
/// Points are drawn as small translucent discs in a fixed pseudo-random
/// order, so that no class systematically hides another and 10,000 points
/// stay readable. The legend lists the classes in order; if they do not fit
/// the height, the last line says how many were left out.
///
/// Fails if `points.len() != classes.len()` or a class index has no name.
pub fn scatter(
    points: &[[f32; 2]],
    classes: &[u16],
    class_names: &[String],
    title: &str,
    size: u32,
) -> Result<Canvas, PictureError> {
    if points.len() != classes.len() {
        return Err(PictureError::LengthMismatch {
            what: "scatter class labels (one per point)",
            expected: points.len(),
            found: classes.len(),
        });
    }
    if let Some((point, &class)) = classes
        .iter()
        .enumerate()
        .find(|&(_, &c)| usize::from(c) >= class_names.len())
    {
        return Err(PictureError::UnknownClass {
            point,
            class,
            names: class_names.len(),
        });
    }

    let size = size.clamp(240, 8192);
    let ts: u32 = if size >= 700 { 2 } else { 1 };
    let title_scale = ts + 1;
    let pad = 6 * ts + 4;
    let tick_len = 3 * ts + 1;

    let finite: Vec<[f32; 2]> = points
        .iter()
        .copied()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
        .collect();
    let (x_lo, x_hi) = view_range(finite.iter().map(|p| p[0]));
    let (y_lo, y_hi) = view_range(finite.iter().map(|p| p[1]));
    let x_ticks = ticks(x_lo, x_hi);
    let y_ticks = ticks(y_lo, y_hi);

    // Layout of the plot panel (the legend goes to its right).
    let text_h = 7 * ts; // cap height
    let y_label_w = y_ticks
        .iter()
        .map(|(_, label)| Canvas::text_width(label, ts))
        .max()
        .unwrap_or(0);
    let plot_left = pad + y_label_w + tick_len + 3 * ts;
    let plot_top = if title.is_empty() {
        pad
    } else {
        pad + Canvas::text_height(title, title_scale) + pad / 2
    };
    let plot_bottom = size - (pad + text_h + tick_len + 3 * ts);
    // Leave room for the last x tick label to overhang the frame.
    let plot_right = size - pad.max(Canvas::text_width("0.00", ts) / 2);

    // Legend geometry.
    let swatch = 4 * ts + 2; // disc radius, pixels
    let row_h = LINE_HEIGHT * ts + 4 * ts;
    let name_w = class_names
        .iter()
        .map(|n| Canvas::text_width(n, ts))
        .max()
        .unwrap_or(0)
        .max(Canvas::text_width("+99 more", ts));
    let legend_inner = 2 * swatch + 2 * ts + 4 + name_w;
    let legend_w = if class_names.is_empty() {
        0
    } else {
        legend_inner + 4 * pad
    };
    let width = size + legend_w;
    let mut canvas = Canvas::new(width, size, WHITE);

    let (l, t, r, b) = (
        i64::from(plot_left),
        i64::from(plot_top),
        i64::from(plot_right),
        i64::from(plot_bottom),
    );
    let map_x = |v: f32| l as f32 + (v - x_lo) / (x_hi - x_lo) * (r - l) as f32;
    let map_y = |v: f32| b as f32 - (v - y_lo) / (y_hi - y_lo) * (b - t) as f32;

    // Grid lines and ticks.
    for (v, label) in &x_ticks {
        let x = map_x(*v).floor() as i64;
        if x <= l || x >= r {
            continue;
        }
        canvas.fill_rect_i64(x, t + 1, 1, b - t - 1, GRID_LINE);
        canvas.fill_rect_i64(x, b + 1, 1, i64::from(tick_len), AXIS);
        let w = i64::from(Canvas::text_width(label, ts));
        let ty = b + 1 + i64::from(tick_len) + 2 * i64::from(ts);
        canvas.draw_text(clamp_i32(x - w / 2), clamp_i32(ty), label, INK, ts);
    }
    for (v, label) in &y_ticks {
        let y = map_y(*v).floor() as i64;
        if y <= t || y >= b {
            continue;
        }
        canvas.fill_rect_i64(l + 1, y, r - l - 1, 1, GRID_LINE);
        canvas.fill_rect_i64(l - i64::from(tick_len), y, i64::from(tick_len), 1, AXIS);
        let w = i64::from(Canvas::text_width(label, ts));
        let tx = l - i64::from(tick_len) - 3 * i64::from(ts) - w;
        let ty = y - i64::from(text_h) / 2;
        canvas.draw_text(clamp_i32(tx), clamp_i32(ty), label, INK, ts);
    }

    // Points, in a fixed shuffled order, clipped to the plot interior.
    let n = finite.len().max(1) as f32;
    let alpha = (0.5 * (10_000.0 / n).sqrt()).clamp(0.25, 0.85);
    let base_r = if finite.len() <= 2_000 { 2.5 } else { 1.5 };
    let radius = base_r * (size as f32 / 600.0).max(1.0);
    let clip = (l + 1, t + 1, r, b);
    for i in shuffled(points.len()) {
        let (Some(p), Some(&c)) = (points.get(i), classes.get(i)) else {
            continue;
        };
        if !(p[0].is_finite() && p[1].is_finite()) {
            continue;
        }
        let color = class_color(usize::from(c));
        canvas.draw_disc_clipped(map_x(p[0]), map_y(p[1]), radius, color, alpha, clip);
    }

    // Frame and title.
    canvas.stroke_rect(
        clamp_i32(l),
        clamp_i32(t),
        plot_right.saturating_sub(plot_left) + 1,
        plot_bottom.saturating_sub(plot_top) + 1,
        AXIS,
    );
    if !title.is_empty() {
        let w = i64::from(Canvas::text_width(title, title_scale));
        let tx = (l + r) / 2 - w / 2;
        canvas.draw_text(
            clamp_i32(tx.max(i64::from(pad))),
            clamp_i32(i64::from(pad)),
            title,
            INK,
            title_scale,
        );
    }

    // Legend.
    if !class_names.is_empty() {
        let lx = i64::from(size) + i64::from(pad);
        let avail = (b - t - 2 * i64::from(pad)).max(i64::from(row_h));
        let fit = (avail / i64::from(row_h)).max(1) as usize;
        let shown = if class_names.len() <= fit {
            class_names.len()
        } else {
            fit.saturating_sub(1)
        };
        let lines = shown + usize::from(shown < class_names.len());
        let box_h = lines as i64 * i64::from(row_h) + i64::from(pad);
        let box_w = i64::from(legend_inner) + 2 * i64::from(pad);
        canvas.stroke_rect(
            clamp_i32(lx),
            clamp_i32(t),
            u32::try_from(box_w).unwrap_or(0),
            u32::try_from(box_h).unwrap_or(0),
            [200, 200, 200],
        );
        let mut y = t + i64::from(pad) / 2 + i64::from(row_h) / 2;
        let sx = lx + i64::from(pad) + i64::from(swatch);
        for (i, name) in class_names.iter().take(shown).enumerate() {
            canvas.draw_disc(
                sx as f32 + 0.5,
                y as f32 + 0.5,
                swatch as f32,
                class_color(i),
                1.0,
            );
            let tx = sx + i64::from(swatch) + 2 * i64::from(ts) + 4;
            canvas.draw_text(
                clamp_i32(tx),
                clamp_i32(y - i64::from(text_h) / 2),
                name,
                INK,
                ts,
            );
            y += i64::from(row_h);
        }
        if shown < class_names.len() {
            let more = format!("+{} more", class_names.len() - shown);
            canvas.draw_text(
                clamp_i32(lx + i64::from(pad)),
                clamp_i32(y - i64::from(text_h) / 2),
                &more,
                INK,
                ts,
            );
        }
    }
    Ok(canvas)
}

/// The displayed range of one axis: the 0.5 %..99.5 % quantiles of the
/// finite values plus a 5 % margin on each side, never empty.
pub(super) fn view_range(values: impl Iterator<Item = f32>) -> (f32, f32) {
    let mut v: Vec<f32> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (-1.0, 1.0);
    }
    v.sort_by(f32::total_cmp);
    let quantile = |q: f64| {
        let pos = q * (v.len() - 1) as f64;
        let i = pos.floor() as usize;
        let j = (i + 1).min(v.len() - 1);
        let frac = (pos - i as f64) as f32;
        let (a, b) = (v[i.min(v.len() - 1)], v[j]);
        a + (b - a) * frac
    };
    let (mut lo, mut hi) = (quantile(0.005), quantile(0.995));
    let span = hi - lo;
    if !(span.is_finite() && span > lo.abs().max(hi.abs()) * 1e-6) {
        let c = 0.5 * lo + 0.5 * hi;
        let half = (c.abs() * 0.1).max(1.0);
        (lo, hi) = (c - half, c + half);
    }
    let margin = 0.05 * (hi - lo);
    (lo - margin, hi + margin)
}

/// Round tick positions (steps of 1, 2 or 5 times a power of ten, about
/// five of them) inside `[lo, hi]`, with their labels.
pub(super) fn ticks(lo: f32, hi: f32) -> Vec<(f32, String)> {
    let (lo, hi) = (f64::from(lo), f64::from(hi));
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let step = mag
        * if norm < 1.5 {
            1.0
        } else if norm < 3.0 {
            2.0
        } else if norm < 7.0 {
            5.0
        } else {
            10.0
        };
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    if !(first.is_finite() && last.is_finite()) || last - first > 20.0 {
        return Vec::new();
    }
    let biggest = lo.abs().max(hi.abs());
    let scientific = step < 1e-4 || biggest >= 1e6;
    let decimals = (-step.log10().floor()).clamp(0.0, 10.0) as usize;
    let mut out = Vec::new();
    let mut k = first;
    while k <= last {
        let v = k * step;
        let mut label = if scientific {
            format!("{v:.1e}")
        } else {
            format!("{v:.decimals$}")
        };
        if label.starts_with('-') && label[1..].chars().all(|c| c == '0' || c == '.') {
            label.remove(0);
        }
        out.push((v as f32, label));
        k += 1.0;
    }
    out
}

/// `0..n` in a fixed pseudo-random order (Fisher-Yates with xorshift).
fn shuffled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}
