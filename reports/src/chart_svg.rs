//! A plotters drawing backend that writes small, fluid SVG.
//!
//! plotters' own SVG backend writes one element per drawn primitive with every presentation
//! attribute spelled out (a tick mark is a `<polyline>` with fill, opacity, stroke and width;
//! a label repeats the whole font-family list). An account page carries five charts, so those
//! bytes were most of the page. This backend draws the same picture with fewer bytes:
//!
//! - every look (fill, stroke, width, opacity; for text size, anchor, colour) becomes a class
//!   named by a hash of its declaration, defined once in the chart's `<style>` — the same look
//!   gets the same class in every chart of a page, so inline charts never clash;
//! - consecutive shapes of one look are one `<path>` (`M46 221H749M46 189H749…`): grid lines,
//!   tick marks and bars are a handful of elements, drawn in the order plotters drew them;
//! - labels go on top of the shapes, consecutive labels of one look in one `<g>`; plotters'
//!   vertical `dy` offsets are folded into `y`, and empty labels are dropped;
//! - the root names the font family once and is fluid (`width="100%"` with a `viewBox`), so a
//!   chart scales with its figure and prints at the page's width.

use std::fmt::Write;

use plotters::prelude::DrawingBackend;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
    FontTransform,
    text_anchor::{HPos, VPos},
};

use crate::charts::FONT_FAMILY;

/// plotters sizes fonts in points; its SVG backend divides by 1.24 to get pixels, and so do we,
/// so that its layout (label areas, legend boxes) fits the text as drawn.
const POINTS_PER_PIXEL: f64 = 1.24;

/// Runs of consecutive shapes or labels of one look, their text end to end in one string: only
/// the last run grows, so a run is its class and where its text starts. One string per chart
/// instead of one per run (a chart has dozens of runs, and their growing was a fifth of the
/// drawing time, in the allocator).
#[derive(Default)]
struct Runs {
    text: String,
    /// (class, start of its text) per run, in drawing order.
    starts: Vec<(usize, usize)>,
}

impl Runs {
    fn with_capacity(bytes: usize) -> Runs {
        Runs {
            text: String::with_capacity(bytes),
            starts: Vec::new(),
        }
    }

    /// The text to append to: the last run's when it has this class, else a new run's.
    fn text_of(&mut self, class: usize) -> &mut String {
        if !matches!(self.starts.last(), Some(&(last, _)) if last == class) {
            self.starts.push((class, self.text.len()));
        }
        &mut self.text
    }

    /// Each run's class and text.
    fn iter(&self) -> impl Iterator<Item = (usize, &str)> {
        let ends = self.starts.iter().skip(1).map(|&(_, start)| start);
        self.starts
            .iter()
            .zip(ends.chain([self.text.len()]))
            .map(|(&(class, start), end)| (class, &self.text[start..end]))
    }
}

/// A plotters backend drawing into `target` (written on `present`).
pub struct CompactSvg<'a> {
    target: &'a mut String,
    size: (u32, u32),
    /// Declarations (`fill:#2F6FB3;stroke:none`) with their class names, in first-use order; a
    /// run names one by index.
    looks: Vec<std::rc::Rc<Declared>>,
    /// The class of each shape look and text look met so far: the declaration is formatted once
    /// per look, not once per tick mark or label (most of the drawing time was in `format!`).
    shape_classes: MetLooks<ShapeLook>,
    text_classes: MetLooks<TextLook>,
    shapes: Runs,
    labels: Runs,
    presented: bool,
    /// What is drawn while a [`Tape`] records (see [`mesh_once`]).
    tape: Option<Vec<Drawn>>,
}

impl<'a> CompactSvg<'a> {
    /// A backend of `size` (the `viewBox`) writing into `target`.
    pub fn new(target: &'a mut String, size: (u32, u32)) -> CompactSvg<'a> {
        CompactSvg {
            target,
            size,
            looks: Vec::new(),
            shape_classes: MetLooks::default(),
            text_classes: MetLooks::default(),
            shapes: Runs::with_capacity(4096),
            labels: Runs::with_capacity(2048),
            presented: false,
            tape: None,
        }
    }

    /// Appends path data to the last shape run when it has this look, else starts a run.
    fn shape(&mut self, look: ShapeLook, path: impl FnOnce(&mut String)) {
        let class = class_of(&mut self.shape_classes, &mut self.looks, &look);
        let body = self.shapes.text_of(class);
        let from = body.len();
        path(body);
        if let Some(tape) = &mut self.tape {
            tape.push(Drawn::Shape(look, body[from..].to_string()));
        }
    }

    /// Appends a label's element (written by `element`) to the last label run when it has this
    /// look, else starts a run.
    fn label(&mut self, look: &TextLook, element: impl FnOnce(&mut String)) {
        let class = class_of(&mut self.text_classes, &mut self.looks, look);
        let body = self.labels.text_of(class);
        let from = body.len();
        element(body);
        if let Some(tape) = &mut self.tape {
            tape.push(Drawn::Label(look.clone(), body[from..].to_string()));
        }
    }

    /// Draws what a tape recorded, as it was drawn: the same looks in the same order, so the
    /// runs and classes come out as if plotters had drawn it again.
    fn play(&mut self, tape: &Tape) {
        for drawn in &tape.0 {
            match drawn {
                Drawn::Shape(look, path) => self.shape(*look, |body| body.push_str(path)),
                Drawn::Label(look, element) => self.label(look, |body| body.push_str(element)),
            }
        }
    }

    fn write_svg(&mut self) {
        let (width, height) = self.size;
        let out = &mut *self.target;
        out.clear();
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
             width=\"100%\" font-family=\"{FONT_FAMILY}\"><style>"
        );
        for look in &self.looks {
            for part in [".", &look.name, "{", &look.declaration, "}"] {
                out.push_str(part);
            }
        }
        out.push_str("</style>\n");
        let looks = &self.looks;
        for (class, body) in self.shapes.iter() {
            for part in [
                "<path class=\"",
                &looks[class].name,
                "\" d=\"",
                body,
                "\"/>\n",
            ] {
                out.push_str(part);
            }
        }
        for (class, body) in self.labels.iter() {
            for part in ["<g class=\"", &looks[class].name, "\">", body, "</g>\n"] {
                out.push_str(part);
            }
        }
        out.push_str("</svg>");
    }
}

impl Drop for CompactSvg<'_> {
    fn drop(&mut self) {
        if !self.presented {
            self.write_svg();
        }
    }
}

/// A look that has a CSS declaration.
trait Look: PartialEq + Clone + 'static {
    fn declaration(&self) -> String;

    /// The looks this thread has declared, with their declarations ([`declared`]).
    fn declared_on_thread() -> &'static std::thread::LocalKey<DeclaredLooks<Self>>;
}

/// A declaration and its class name ([`class_name`]).
#[derive(Debug, PartialEq)]
struct Declared {
    declaration: String,
    name: String,
}

/// Looks of one kind a thread has declared: a page's five charts use the same few dozen looks,
/// and formatting their declarations chart after chart was a tenth of drawing them.
type DeclaredLooks<L> = std::cell::RefCell<Vec<(L, std::rc::Rc<Declared>)>>;

/// Looks a thread keeps declared, of each kind: the charts use a few dozen. Past this (looks
/// made from unusual data, say), a look is declared anew each time it is met.
const DECLARED_KEPT: usize = 256;

thread_local! {
    static SHAPE_LOOKS: DeclaredLooks<ShapeLook> = const { std::cell::RefCell::new(Vec::new()) };
    static TEXT_LOOKS: DeclaredLooks<TextLook> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The declaration and class name of `look`: declared once per thread.
fn declared<L: Look>(look: &L) -> std::rc::Rc<Declared> {
    L::declared_on_thread().with_borrow_mut(|kept| {
        if let Some((_, declared)) = kept.iter().find(|(l, _)| l == look) {
            return declared.clone();
        }
        let declaration = look.declaration();
        let declared = std::rc::Rc::new(Declared {
            name: class_name(&declaration),
            declaration,
        });
        if kept.len() < DECLARED_KEPT {
            kept.push((look.clone(), declared.clone()));
        }
        declared
    })
}

/// The looks of one kind a chart has met, each with its class, and which one was met last: a
/// chart draws runs of one look (a series' bars, an axis' labels), so that one is tried first.
struct MetLooks<L> {
    met: Vec<(L, usize)>,
    last: usize,
}

impl<L> Default for MetLooks<L> {
    fn default() -> Self {
        MetLooks {
            met: Vec::new(),
            last: 0,
        }
    }
}

/// The class (index into `declarations`) of a look: found among the looks met so far, or its
/// declaration ([`declared`]) added (looks that declare the same share a class). The look is
/// copied only when it is new.
fn class_of<L: Look>(
    looks: &mut MetLooks<L>,
    declarations: &mut Vec<std::rc::Rc<Declared>>,
    look: &L,
) -> usize {
    if let Some((last, class)) = looks.met.get(looks.last)
        && last == look
    {
        return *class;
    }
    if let Some(i) = looks.met.iter().position(|(l, _)| l == look) {
        looks.last = i;
        return looks.met[i].1;
    }
    let declared = declared(look);
    let class = match declarations
        .iter()
        .position(|d| d.declaration == declared.declaration)
    {
        Some(i) => i,
        None => {
            declarations.push(declared);
            declarations.len() - 1
        }
    };
    looks.last = looks.met.len();
    looks.met.push((look.clone(), class));
    class
}

/// A class name for a declaration: `g` and 20 bits of its FNV-1a hash.
fn class_name(declaration: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hash = fnv32(declaration) & 0xf_ffff;
    let mut name = String::with_capacity(6);
    name.push('g');
    // `{:05x}`: twenty bits are five hex digits.
    for shift in (0..5).rev() {
        name.push(char::from(HEX[(hash >> (4 * shift)) as usize & 0xf]));
    }
    name
}

fn fnv32(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

fn color(c: BackendColor) -> String {
    let (r, g, b) = c.rgb;
    format!("#{r:02X}{g:02X}{b:02X}")
}

/// `;opacity:0.2`, or nothing when opaque.
fn opacity(c: BackendColor) -> String {
    if c.alpha >= 1.0 {
        String::new()
    } else {
        format!(";opacity:{}", round(c.alpha, 3))
    }
}

/// A number with at most `digits` (≤ 3) decimals and no trailing zeros. Integer arithmetic:
/// `format!("{:.1}")` takes the exact (slow) float formatting path, once per label.
fn round(value: f64, digits: u32) -> String {
    let mut out = String::new();
    push_round(&mut out, value, digits);
    out
}

/// Appends [`round`]'s text.
fn push_round(out: &mut String, value: f64, digits: u32) {
    let scale = 10i64.pow(digits.min(3));
    let scaled = (value * scale as f64).round() as i64;
    let (whole, mut fraction) = (scaled / scale, (scaled % scale).abs());
    if scaled < 0 && whole == 0 {
        out.push('-');
    }
    let mut number = itoa::Buffer::new();
    out.push_str(number.format(whole));
    if fraction == 0 {
        return;
    }
    let mut width = digits.min(3) as usize;
    while fraction % 10 == 0 {
        fraction /= 10;
        width -= 1;
    }
    out.push('.');
    let text = number.format(fraction);
    for _ in text.len()..width {
        out.push('0');
    }
    out.push_str(text);
}

/// A colour with its opacity, comparable (plotters' colour is not).
#[derive(Clone, Copy, PartialEq)]
struct Paint {
    rgb: (u8, u8, u8),
    alpha: f64,
}

impl Paint {
    fn of(c: BackendColor) -> Paint {
        Paint {
            rgb: c.rgb,
            alpha: c.alpha,
        }
    }

    fn color(self) -> BackendColor {
        BackendColor {
            rgb: self.rgb,
            alpha: self.alpha,
        }
    }
}

/// How a shape is drawn: its paint, and how the paint is laid on.
#[derive(Clone, Copy, PartialEq)]
struct ShapeLook {
    paint: Paint,
    mark: Mark,
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    Fill,
    /// An outline of this width.
    Stroke(u32),
    /// Dots of this diameter: zero-length strokes with round caps.
    Dot(u32),
}

impl ShapeLook {
    fn fill(c: BackendColor) -> ShapeLook {
        ShapeLook {
            paint: Paint::of(c),
            mark: Mark::Fill,
        }
    }
}

impl Look for ShapeLook {
    fn declared_on_thread() -> &'static std::thread::LocalKey<DeclaredLooks<Self>> {
        &SHAPE_LOOKS
    }

    fn declaration(&self) -> String {
        let c = self.paint.color();
        match self.mark {
            Mark::Fill => format!("fill:{};stroke:none{}", color(c), opacity(c)),
            Mark::Stroke(width) => format!(
                "fill:none;stroke:{};stroke-width:{width}{}",
                color(c),
                opacity(c)
            ),
            Mark::Dot(diameter) => format!(
                "fill:none;stroke:{};stroke-width:{diameter};stroke-linecap:round{}",
                color(c),
                opacity(c)
            ),
        }
    }
}

/// The look of a filled or outlined shape in `style`; `None` when it is invisible.
fn shape_look<S: BackendStyle>(style: &S, fill: bool) -> Option<ShapeLook> {
    let c = style.color();
    if c.alpha == 0.0 {
        None
    } else if fill {
        Some(ShapeLook::fill(c))
    } else {
        Some(ShapeLook {
            paint: Paint::of(c),
            mark: Mark::Stroke(style.stroke_width()),
        })
    }
}

/// How a label is drawn.
#[derive(Clone, PartialEq)]
struct TextLook {
    paint: Paint,
    /// Pixels.
    size: f64,
    anchor: &'static str,
    /// `font-weight:bold` or `font-style:…`; `None` for the normal style.
    style: Option<&'static str>,
    /// `None`: the charts' family, named once on the root.
    family: Option<String>,
}

impl Look for TextLook {
    fn declared_on_thread() -> &'static std::thread::LocalKey<DeclaredLooks<Self>> {
        &TEXT_LOOKS
    }

    fn declaration(&self) -> String {
        let c = self.paint.color();
        let mut look = format!(
            "fill:{};font-size:{}px;text-anchor:{}{}",
            color(c),
            round(self.size, 1),
            self.anchor,
            opacity(c)
        );
        if let Some(style) = self.style {
            look.push(';');
            look.push_str(style);
        }
        if let Some(family) = &self.family {
            let _ = write!(look, ";font-family:{family}");
        }
        look
    }
}

/// The declaration of a font style other than normal.
fn font_style(style: FontStyle) -> Option<&'static str> {
    match style {
        FontStyle::Normal => None,
        FontStyle::Bold => Some("font-weight:bold"),
        FontStyle::Italic => Some("font-style:italic"),
        FontStyle::Oblique => Some("font-style:oblique"),
    }
}

/// Path data of a polyline: `M1 2L3 4 5 6`, with `H`/`V` for a single straight segment.
fn polyline(out: &mut String, points: &[BackendCoord]) {
    let Some(((x0, y0), rest)) = points.split_first() else {
        return;
    };
    push_ints(out, &[("M", *x0), (" ", *y0)]);
    match rest {
        [(x1, y1)] if y1 == y0 => push_ints(out, &[("H", *x1)]),
        [(x1, y1)] if x1 == x0 => push_ints(out, &[("V", *y1)]),
        _ => {
            for (i, (x, y)) in rest.iter().enumerate() {
                push_ints(out, &[(if i == 0 { "L" } else { " " }, *x), (" ", *y)]);
            }
        }
    }
}

/// Appends each text and the integer after it. Path data is most of a chart's text, and
/// `write!` most of the time drawing it took.
fn push_ints(out: &mut String, parts: &[(&str, i32)]) {
    let mut digits = itoa::Buffer::new();
    for (text, value) in parts {
        out.push_str(text);
        out.push_str(digits.format(*value));
    }
}

/// Text content escaped for an SVG element.
fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

impl DrawingBackend for CompactSvg<'_> {
    type ErrorType = std::fmt::Error;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if !self.presented {
            self.write_svg();
            self.presented = true;
        }
        Ok(())
    }

    fn draw_pixel(
        &mut self,
        (x, y): BackendCoord,
        c: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if c.alpha > 0.0 {
            self.shape(ShapeLook::fill(c), |d| {
                push_ints(d, &[("M", x), (" ", y)]);
                d.push_str("h1v1h-1z");
            });
        }
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.draw_path([from, to], style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        (x0, y0): BackendCoord,
        (x1, y1): BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if let Some(look) = shape_look(style, fill) {
            self.shape(look, |d| {
                push_ints(
                    d,
                    &[
                        ("M", x0),
                        (" ", y0),
                        ("h", x1 - x0),
                        ("v", y1 - y0),
                        ("h", x0 - x1),
                    ],
                );
                d.push('z');
            });
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if let Some(look) = shape_look(style, false) {
            let points: Vec<BackendCoord> = path.into_iter().collect();
            self.shape(look, |d| polyline(d, &points));
        }
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        (x, y): BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let Some(look) = shape_look(style, fill) else {
            return Ok(());
        };
        if fill {
            // A filled circle is a dot: `M{x} {y}h0`, a zero-length line whose round caps
            // make the disc (a quarter of the bytes of two arcs; a line chart marks every
            // month of every series).
            let dot = ShapeLook {
                mark: Mark::Dot(2 * radius),
                ..look
            };
            self.shape(dot, |d| {
                push_ints(d, &[("M", x), (" ", y)]);
                d.push_str("h0");
            });
        } else {
            // `M{x-r} {y}a{r} {r} 0 1 0 {2r} 0a{r} {r} 0 1 0 {-2r} 0z`: two arcs.
            let r = radius as i32;
            self.shape(look, |d| {
                push_ints(
                    d,
                    &[
                        ("M", x - r),
                        (" ", y),
                        ("a", r),
                        (" ", r),
                        (" 0 1 0 ", 2 * r),
                        (" 0a", r),
                        (" ", r),
                        (" 0 1 0 ", -2 * r),
                    ],
                );
                d.push_str(" 0z");
            });
        }
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if let Some(look) = shape_look(style, true) {
            let points: Vec<BackendCoord> = vertices.into_iter().collect();
            self.shape(look, |d| {
                polyline(d, &points);
                d.push('z');
            });
        }
        Ok(())
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        (x, y): BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let c = style.color();
        if c.alpha == 0.0 || text.trim().is_empty() {
            return Ok(());
        }
        let size = style.size() / POINTS_PER_PIXEL;
        let anchor = match style.anchor().h_pos {
            HPos::Left => "start",
            HPos::Right => "end",
            HPos::Center => "middle",
        };
        let family = style.family();
        let look = TextLook {
            paint: Paint::of(c),
            size,
            anchor,
            style: font_style(style.style()),
            family: (family.as_str() != FONT_FAMILY).then(|| family.as_str().to_string()),
        };
        // plotters' SVG backend places the text with `dy` (0.76em below a top anchor, 0.5ex ≈
        // 0.25em for a centred one); the same offset folded into y (it turns with the text).
        let shift = match style.anchor().v_pos {
            VPos::Top => 0.76 * size,
            VPos::Center => 0.25 * size,
            VPos::Bottom => -0.25 * size,
        };
        let turn = match style.transform() {
            FontTransform::Rotate90 => Some(90),
            FontTransform::Rotate180 => Some(180),
            FontTransform::Rotate270 => Some(270),
            _ => None,
        };
        self.label(&look, |element| {
            push_ints(element, &[("<text x=\"", x)]);
            element.push_str("\" y=\"");
            push_round(element, f64::from(y) + shift, 1);
            element.push('"');
            if let Some(degrees) = turn {
                let _ = write!(element, " transform=\"rotate({degrees} {x} {y})\"");
            }
            element.push('>');
            escape_text(element, text);
            element.push_str("</text>");
        });
        Ok(())
    }
}

/// One thing the backend drew: path data in a shape look, or a label's element in a text look.
enum Drawn {
    Shape(ShapeLook, String),
    Label(TextLook, String),
}

/// What the backend drew between two points of a chart.
struct Tape(Vec<Drawn>);

/// The tape's commands, given to the backend as plotters elements (a drawing area hands its
/// backend only to the elements it draws).
enum TapeCommand<'t> {
    Record,
    /// Stops recording and leaves the tape in the cell.
    Stop(&'t std::cell::RefCell<Option<Tape>>),
    Play(&'t Tape),
}

impl<'a> plotters::element::PointCollection<'a, BackendCoord> for &'a TapeCommand<'_> {
    type Point = &'a BackendCoord;
    type IntoIter = std::iter::Empty<&'a BackendCoord>;

    fn point_iter(self) -> Self::IntoIter {
        std::iter::empty()
    }
}

impl<'s> plotters::element::Drawable<CompactSvg<'s>> for TapeCommand<'_> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        _points: I,
        backend: &mut CompactSvg<'s>,
        _parent: (u32, u32),
    ) -> Result<(), DrawingErrorKind<std::fmt::Error>> {
        match self {
            TapeCommand::Record => backend.tape = Some(Vec::new()),
            TapeCommand::Stop(cell) => *cell.borrow_mut() = backend.tape.take().map(Tape),
            TapeCommand::Play(tape) => backend.play(tape),
        }
        Ok(())
    }
}

/// Meshes a thread keeps (a few KB each): the first ones met, which are the common ones. At
/// 20,000 accounts a drawing thread meets about 1,200 distinct meshes, most of them content
/// charts seen once.
const MESHES_KEPT: usize = 1024;
/// Charts of a kind drawn before the thread judges whether keeping their meshes pays.
const MESH_PROBE: usize = 256;
/// Keeping a kind's meshes pays when at least one chart in this many plays one.
const MESH_MIN_REUSE: usize = 2;

thread_local! {
    static MESHES: std::cell::RefCell<polars::prelude::PlHashMap<String, std::rc::Rc<Tape>>> =
        std::cell::RefCell::default();
    /// Per chart kind: charts drawn, meshes played.
    static MESH_USE: std::cell::RefCell<Vec<(&'static str, usize, usize)>> =
        const { std::cell::RefCell::new(Vec::new()) };
    static MESHES_ON: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// What identifies a chart's mesh: its kind and everything the kind's mesh reads.
pub struct MeshKey {
    kind: &'static str,
    text: String,
}

/// Draws a chart's mesh (axes, ticks, tick labels, axis names) with `draw`, or plays the mesh an
/// earlier chart with the same key drew on this thread. plotters lays out and formats every
/// tick of every chart: the mesh was about a third of drawing 200,000 pages' charts, and most
/// accounts' weekly, latency, rubric and content charts have the same axes.
///
/// A kind whose meshes seldom repeat (engagement: each account's own scale) is drawn whole
/// after [`MESH_PROBE`] charts: recording and keeping meshes that are never played cost memory
/// and time for nothing. A thread keeps at most [`MESHES_KEPT`] meshes, the first it met.
pub fn mesh_once<E>(
    root: &plotters::drawing::DrawingArea<CompactSvg<'_>, plotters::coord::Shift>,
    key: MeshKey,
    draw: impl FnOnce() -> Result<(), E>,
    area_error: impl Fn(&dyn std::fmt::Display) -> E,
) -> Result<(), E> {
    if !MESHES_ON.get() {
        return draw();
    }
    let tape = MESHES.with_borrow(|meshes| meshes.get(&key.text).cloned());
    let keep = MESH_USE.with_borrow_mut(|uses| {
        let i = match uses.iter().position(|u| u.0 == key.kind) {
            Some(i) => i,
            None => {
                uses.push((key.kind, 0, 0));
                uses.len() - 1
            }
        };
        let (_, drawn, played) = &mut uses[i];
        *drawn += 1;
        *played += usize::from(tape.is_some());
        *drawn <= MESH_PROBE || *played * MESH_MIN_REUSE >= *drawn
    }) && MESHES.with_borrow(|meshes| meshes.len() < MESHES_KEPT);
    if let Some(tape) = tape {
        return root
            .draw(&TapeCommand::Play(&tape))
            .map_err(|e| area_error(&e));
    }
    if !keep {
        return draw();
    }
    root.draw(&TapeCommand::Record)
        .map_err(|e| area_error(&e))?;
    draw()?;
    let recorded = std::cell::RefCell::new(None);
    root.draw(&TapeCommand::Stop(&recorded))
        .map_err(|e| area_error(&e))?;
    if let Some(tape) = recorded.into_inner() {
        MESHES.with_borrow_mut(|meshes| meshes.insert(key.text, std::rc::Rc::new(tape)));
    }
    Ok(())
}

/// A [`mesh_once`] key: the chart kind, the plot's pixel area, the axes' ranges and the rest of
/// what the kind's mesh reads (its labels, its axis name).
pub fn mesh_key<DB: DrawingBackend>(
    kind: &'static str,
    chart: &plotters::chart::ChartContext<
        '_,
        DB,
        plotters::coord::cartesian::Cartesian2d<
            plotters::coord::types::RangedCoordf64,
            plotters::coord::types::RangedCoordf64,
        >,
    >,
    rest: std::fmt::Arguments<'_>,
) -> MeshKey {
    let (x_pixels, y_pixels) = chart.plotting_area().get_pixel_range();
    let (x, y) = (chart.x_range(), chart.y_range());
    // The ranges as bits: two tops that print alike may still place ticks apart.
    let text = format!(
        "{kind}|{x_pixels:?}|{y_pixels:?}|{:x}-{:x}|{:x}-{:x}|{rest}",
        x.start.to_bits(),
        x.end.to_bits(),
        y.start.to_bits(),
        y.end.to_bits(),
    );
    MeshKey { kind, text }
}

/// The meshes this thread keeps.
#[cfg(test)]
pub fn meshes_kept() -> usize {
    MESHES.with_borrow(|meshes| meshes.len())
}

/// Runs `f` with every chart's mesh drawn by plotters (tests compare the two).
#[cfg(test)]
pub fn without_mesh_cache<T>(f: impl FnOnce() -> T) -> T {
    MESHES_ON.set(false);
    let out = f();
    MESHES_ON.set(true);
    out
}

/// For charts shown inline on one page: a class a chart above already defines is not defined
/// again (an inline SVG's `<style>` applies to the whole document; the class names are hashes
/// of their declarations, so the same name is the same look). About 2.5 KB of an account page.
pub fn share_styles(svgs: &mut [&mut String]) {
    // A page's charts define a few dozen classes: a list looked through beats hashing each name.
    // The names are kept one after another in one string, each found by its end, and compared
    // first by a word of their leading bytes (a name is a few bytes: `.g81ebc`), so that looking
    // through the list calls no comparison of bytes and a name kept allocates nothing (with a
    // list of boxed names compared whole, this was a seventh of the time of a page's charts).
    let mut names = String::new();
    let mut defined: Vec<(u64, usize)> = Vec::new();
    let mut kept = String::new();
    for svg in svgs.iter_mut() {
        let (Some(start), Some(end)) = (svg.find("<style>"), svg.find("</style>")) else {
            continue;
        };
        let rules = &svg[start + "<style>".len()..end];
        kept.clear();
        for rule in rules.split_inclusive('}') {
            let name = rule.split('{').next().unwrap_or(rule);
            let word = leading_word(name);
            let mut from = 0;
            let known = defined.iter().any(|&(w, to)| {
                let same = w == word && names[from..to] == *name;
                from = to;
                same
            });
            if !known {
                names.push_str(name);
                defined.push((word, names.len()));
                kept.push_str(rule);
            }
        }
        if kept.is_empty() {
            svg.replace_range(start..end + "</style>".len(), "");
        } else if kept.len() != rules.len() {
            svg.replace_range(start + "<style>".len()..end, &kept);
        }
    }
}

/// The first seven bytes of `text` (fewer: padded with zeros) and its length (up to 255), as one
/// word: two texts with different words differ.
fn leading_word(text: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = text.len().min(7);
    bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
    bytes[7] = text.len().min(255) as u8;
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    fn draw(picture: impl FnOnce(&DrawingArea<CompactSvg<'_>, plotters::coord::Shift>)) -> String {
        let mut svg = String::new();
        {
            let root = CompactSvg::new(&mut svg, (200, 100)).into_drawing_area();
            picture(&root);
            root.present().unwrap();
        }
        svg
    }

    #[test]
    fn shapes_of_one_look_are_one_path_in_drawing_order() {
        let svg = draw(|root| {
            root.fill(&WHITE).unwrap();
            for y in [10, 20, 30] {
                root.draw(&PathElement::new([(0, y), (100, y)], BLACK))
                    .unwrap();
            }
            root.draw(&Rectangle::new([(5, 5), (15, 50)], BLUE.filled()))
                .unwrap();
            root.draw(&Rectangle::new([(25, 5), (35, 50)], BLUE.filled()))
                .unwrap();
        });
        let paths: Vec<&str> = svg.lines().filter(|l| l.starts_with("<path")).collect();
        assert_eq!(paths.len(), 3, "{svg}");
        assert!(paths[0].contains("d=\"M0 0h200v100h-200z\""), "{svg}");
        assert!(
            paths[1].contains("d=\"M0 10H100M0 20H100M0 30H100\""),
            "{svg}"
        );
        assert!(
            paths[2].contains("d=\"M5 5h10v45h-10zM25 5h10v45h-10z\""),
            "{svg}"
        );
        assert!(svg.contains("{fill:#0000FF;stroke:none}"), "{svg}");
        assert!(
            svg.contains("{fill:none;stroke:#000000;stroke-width:1}"),
            "{svg}"
        );
        assert!(svg.starts_with(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 200 100\" width=\"100%\""
        ));
        assert_eq!(svg.matches("font-family").count(), 1);
    }

    /// Filled circles are dots, outlined ones two arcs, and a class is `g` and five hex digits
    /// of the declaration's hash: the same text the `format!` calls they replaced wrote.
    #[test]
    fn filled_circles_are_dots_outlined_ones_arcs_and_class_names_as_before() {
        let svg = draw(|root| {
            root.draw(&Circle::new((50, 40), 3, RED.filled())).unwrap();
            root.draw(&Circle::new((60, 40), 3, RED.filled())).unwrap();
            root.draw(&Circle::new((2, 7), 12, BLUE)).unwrap();
        });
        // A disc of radius 3: a zero-length line, six pixels wide, with round caps.
        let dot = "fill:none;stroke:#FF0000;stroke-width:6;stroke-linecap:round";
        assert!(
            svg.contains(&format!(
                "<path class=\"{}\" d=\"M50 40h0M60 40h0\"/>",
                class_name(dot)
            )),
            "{svg}"
        );
        assert!(
            svg.contains(&format!(".{}{{{dot}}}", class_name(dot))),
            "{svg}"
        );
        assert!(
            svg.contains("d=\"M-10 7a12 12 0 1 0 24 0a12 12 0 1 0 -24 0z\""),
            "{svg}"
        );
        for declaration in ["", "fill:#0000FF;stroke:none", "fill:#2F6FB3", "x"] {
            assert_eq!(
                class_name(declaration),
                format!("g{:05x}", fnv32(declaration) & 0xf_ffff)
            );
        }
        assert!(
            svg.contains(&format!(
                ".{}{{fill:none;stroke:#0000FF;stroke-width:1}}",
                class_name("fill:none;stroke:#0000FF;stroke-width:1")
            )),
            "{svg}"
        );
    }

    /// Each text then its number, in order, whatever their lengths.
    #[test]
    fn ints_are_appended_after_their_texts_in_order() {
        let long = "x".repeat(100);
        let texts = ["M", " ", "h", " 0 1 0 ", "", long.as_str()];
        let values = [0, -1, 7, 42, i32::MAX, i32::MIN, 1_000_000];
        let parts: Vec<(&str, i32)> = texts
            .iter()
            .flat_map(|&text| values.iter().map(move |&value| (text, value)))
            .collect();
        // Every run of up to eight consecutive parts, wrapping around.
        for first in 0..parts.len() {
            for len in 0..=8 {
                let run: Vec<(&str, i32)> =
                    (0..len).map(|k| parts[(first + k) % parts.len()]).collect();
                let mut out = String::from("start");
                push_ints(&mut out, &run);
                let expected: String = run.iter().map(|(t, v)| format!("{t}{v}")).collect();
                assert_eq!(out, format!("start{expected}"), "{run:?}");
            }
        }
    }

    /// A look declared once on a thread gives the declaration formatted anew, for the looks
    /// kept and for those met after the thread stopped keeping them.
    #[test]
    fn looks_declared_on_a_thread_are_their_declarations() {
        std::thread::spawn(|| {
            let shape = |i: usize| ShapeLook {
                paint: Paint {
                    rgb: ((i % 251) as u8, (i / 251) as u8, 7),
                    alpha: if i.is_multiple_of(3) { 1.0 } else { 0.5 },
                },
                mark: [Mark::Fill, Mark::Stroke(i as u32 % 4), Mark::Dot(2)][i % 3],
            };
            let text = |i: usize| TextLook {
                paint: Paint {
                    rgb: (1, 2, (i % 256) as u8),
                    alpha: 1.0,
                },
                size: 10.0 + (i % 7) as f64 / 3.0,
                anchor: ["start", "middle", "end"][i % 3],
                style: i.is_multiple_of(5).then_some("font-weight:bold"),
                family: i.is_multiple_of(11).then(|| format!("Font {i}")),
            };
            let looks = 2 * DECLARED_KEPT;
            for round in 0..2 {
                for i in 0..looks {
                    for (got, want) in [
                        (declared(&shape(i)), shape(i).declaration()),
                        (declared(&text(i)), text(i).declaration()),
                    ] {
                        assert_eq!(got.declaration, want, "look {i}, round {round}");
                        assert_eq!(got.name, class_name(&want));
                    }
                }
            }
            assert_eq!(SHAPE_LOOKS.with_borrow(Vec::len), DECLARED_KEPT);
            assert_eq!(TEXT_LOOKS.with_borrow(Vec::len), DECLARED_KEPT);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn labels_are_escaped_grouped_on_top_and_empty_ones_dropped() {
        let svg = draw(|root| {
            let font = (FONT_FAMILY, 15.5).into_font();
            root.draw(&Text::new("<script>甲&乙</script>", (10, 10), font.clone()))
                .unwrap();
            root.draw(&Rectangle::new([(0, 0), (5, 5)], RED.filled()))
                .unwrap();
            root.draw(&Text::new("  ", (10, 30), font.clone())).unwrap();
            root.draw(&Text::new("丙", (10, 50), font.clone())).unwrap();
        });
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(
            svg.contains("&lt;script&gt;甲&amp;乙&lt;/script&gt;"),
            "{svg}"
        );
        assert_eq!(svg.matches("<text").count(), 2, "{svg}");
        assert_eq!(svg.matches("<g class").count(), 1, "{svg}");
        // 15.5 pt is 12.5 px; a top-anchored label sits 0.76 em lower (plotters' dy).
        assert!(svg.contains("font-size:12.5px"), "{svg}");
        assert!(svg.contains("<text x=\"10\" y=\"19.5\">"), "{svg}");
        assert!(svg.find("<path").unwrap() < svg.find("<g class").unwrap());
    }

    #[test]
    fn the_same_look_gets_the_same_class_in_every_chart() {
        let one = draw(|root| root.fill(&RED).unwrap());
        let two = draw(|root| {
            root.fill(&BLUE).unwrap();
            root.draw(&Rectangle::new([(0, 0), (5, 5)], RED.filled()))
                .unwrap();
        });
        let class = |svg: &str, look: &str| {
            let end = svg.find(&format!("{{{look}}}")).unwrap();
            svg[..end].rsplit('.').next().unwrap().to_string()
        };
        let red = "fill:#FF0000;stroke:none";
        assert_eq!(class(&one, red), class(&two, red));
        assert_ne!(class(&two, red), class(&two, "fill:#0000FF;stroke:none"));
    }

    #[test]
    fn classes_alike_in_their_first_bytes_are_told_apart() {
        let mut one = String::from("<svg><style>.longname1{a}.longname2{b}.s{c}</style>1</svg>");
        let mut two =
            String::from("<svg><style>.longname2{b}.longname3{d}.s{c}.t{e}</style>2</svg>");
        let mut three = String::from("<svg><style>.longname1{a}.t{e}</style>3</svg>");
        share_styles(&mut [&mut one, &mut two, &mut three]);
        assert_eq!(
            one,
            "<svg><style>.longname1{a}.longname2{b}.s{c}</style>1</svg>"
        );
        assert_eq!(two, "<svg><style>.longname3{d}.t{e}</style>2</svg>");
        assert_eq!(three, "<svg>3</svg>");
    }

    #[test]
    fn charts_on_one_page_define_each_class_once() {
        let mut one = draw(|root| root.fill(&RED).unwrap());
        let mut two = draw(|root| {
            root.fill(&RED).unwrap();
            root.draw(&Rectangle::new([(0, 0), (5, 5)], BLUE.filled()))
                .unwrap();
        });
        share_styles(&mut [&mut one, &mut two]);
        assert!(one.contains("{fill:#FF0000;stroke:none}"), "{one}");
        assert!(!two.contains("{fill:#FF0000;stroke:none}"), "{two}");
        assert!(two.contains("{fill:#0000FF;stroke:none}"), "{two}");
        let mut three = draw(|root| root.fill(&RED).unwrap());
        share_styles(&mut [&mut one, &mut three]);
        assert!(!three.contains("<style>"), "{three}");
        let red = one
            .split("<style>.")
            .nth(1)
            .unwrap()
            .split('{')
            .next()
            .unwrap();
        assert!(two.contains(&format!("class=\"{red}\"")), "{two}");
    }

    #[test]
    fn numbers_are_rounded_without_trailing_zeros() {
        assert_eq!(round(12.5, 1), "12.5");
        assert_eq!(round(12.04, 1), "12");
        assert_eq!(round(0.18, 3), "0.18");
        assert_eq!(round(-0.25, 1), "-0.3");
        assert_eq!(round(-3.0, 1), "-3");
        assert_eq!(round(137.5, 1), "137.5");
        assert_eq!(round(0.851, 2), "0.85");
    }

    #[test]
    fn translucent_looks_keep_their_opacity() {
        let svg = draw(|root| {
            root.draw(&Rectangle::new([(0, 0), (5, 5)], RED.mix(0.18).filled()))
                .unwrap()
        });
        assert!(
            svg.contains("fill:#FF0000;stroke:none;opacity:0.18"),
            "{svg}"
        );
    }
}
