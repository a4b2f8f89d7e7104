//! Central finite differences against an analytic gradient (test support).

/// Checks `analytic` against central differences of `f` at `x`, element by element;
/// panics with the first mismatch. `f` is evaluated in `f32`, so the tolerance is relative
/// to the gradient's scale.
pub fn check(what: &str, analytic: &[f32], x: &mut [f32], mut f: impl FnMut(&[f32]) -> f32) {
    assert_eq!(analytic.len(), x.len(), "{what}: gradient length");
    let scale = analytic.iter().fold(1e-3f32, |m, g| m.max(g.abs()));
    for i in 0..x.len() {
        let orig = x[i];
        let h = 1e-3f32.max(orig.abs() * 1e-3);
        x[i] = orig + h;
        let up = f(x) as f64;
        x[i] = orig - h;
        let down = f(x) as f64;
        x[i] = orig;
        let numeric = ((up - down) / (2.0 * h as f64)) as f32;
        let err = (numeric - analytic[i]).abs();
        assert!(
            err <= 2e-2 * scale.max(numeric.abs()),
            "{what}[{i}]: analytic {} vs numeric {numeric} (scale {scale})",
            analytic[i]
        );
    }
}
