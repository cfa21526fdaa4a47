//! A minimal SVG writer for the report's charts: lines, rectangles, polylines and escaped text.
//! Hand-written so that the benchmark suite needs no plotting dependency for a few shapes.

/// An SVG document being drawn, in user units (pixels at 100 %).
pub struct Svg {
    width: f64,
    height: f64,
    body: String,
}

/// How a text is placed relative to its anchor point.
#[derive(Clone, Copy)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Escapes the five characters that XML gives a meaning to, for text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

impl Svg {
    /// An empty white canvas of `width` × `height`.
    pub fn new(width: f64, height: f64) -> Self {
        let mut svg = Self { width, height, body: String::new() };
        svg.rect(0.0, 0.0, width, height, "#ffffff");
        svg
    }

    /// A straight line; `dash` is an SVG `stroke-dasharray` or empty for a solid line.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str, width: f64, dash: &str) {
        let dash =
            if dash.is_empty() { String::new() } else { format!(" stroke-dasharray=\"{}\"", escape(dash)) };
        self.body.push_str(&format!(
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"{width:.1}\"{dash}/>\n",
            from.0,
            from.1,
            to.0,
            to.1,
            escape(stroke)
        ));
    }

    /// A filled rectangle whose top-left corner is (`x`, `y`).
    pub fn rect(&mut self, x: f64, y: f64, width: f64, height: f64, fill: &str) {
        self.body.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"/>\n",
            width.max(0.0),
            height.max(0.0),
            escape(fill)
        ));
    }

    /// An open line through `points`, labelled with `label` (a `<title>`, shown on hover).
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, label: &str) {
        let points: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        self.body.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>\n",
            escape(stroke),
            points.join(" "),
            escape(label)
        ));
    }

    /// Text in the default sans-serif face, `size` pixels high, rotated by `degrees` about its anchor.
    pub fn text(&mut self, at: (f64, f64), anchor: Anchor, size: f64, degrees: f64, text: &str) {
        let rotate = if degrees == 0.0 {
            String::new()
        } else {
            format!(" transform=\"rotate({degrees:.0} {:.1} {:.1})\"", at.0, at.1)
        };
        self.body.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-family=\"sans-serif\" font-size=\"{size:.0}\" text-anchor=\"{}\"{rotate}>{}</text>\n",
            at.0,
            at.1,
            anchor.as_str(),
            escape(text)
        ));
    }

    /// The whole document, with its XML declaration.
    pub fn finish(self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\">\n{}</svg>\n",
            self.body,
            w = self.width,
            h = self.height
        )
    }
}

/// A small well-formedness check for the tests: every element closed in order, attributes
/// quoted, no raw `<` or `&` outside markup and entities. Not a full XML parser.
#[cfg(test)]
pub fn check_well_formed(document: &str) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = document;
    let mut roots = 0;
    while let Some(at) = rest.find(['<', '&']) {
        let (text, tail) = rest.split_at(at);
        if text.contains('>') {
            return Err(format!("a raw '>' in text: {text:?}"));
        }
        if tail.starts_with('&') {
            let end = tail.find(';').ok_or("an '&' without ';'")?;
            if !["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&&tail[..=end]) {
                return Err(format!("an unknown entity {:?}", &tail[..=end]));
            }
            rest = &tail[end + 1..];
            continue;
        }
        let end = tail.find('>').ok_or("a '<' without '>'")?;
        let tag = &tail[1..end];
        rest = &tail[end + 1..];
        if tag.starts_with('?') {
            if !tag.ends_with('?') {
                return Err(format!("a declaration not closed by '?>': {tag:?}"));
            }
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(top) if top == name.trim() => continue,
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, attributes) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':') {
            return Err(format!("a bad element name {name:?}"));
        }
        check_attributes(attributes)?;
        if open.is_empty() {
            roots += 1;
        }
        if !self_closing {
            open.push(name);
        }
    }
    if rest.contains('>') {
        return Err("a raw '>' after the last element".to_owned());
    }
    match (open.as_slice(), roots) {
        ([], 1) => Ok(()),
        ([], n) => Err(format!("{n} root elements")),
        (left, _) => Err(format!("elements never closed: {left:?}")),
    }
}

/// `name="value"` pairs separated by white space, values free of `<` and `"`.
#[cfg(test)]
fn check_attributes(mut attributes: &str) -> Result<(), String> {
    loop {
        attributes = attributes.trim_start();
        if attributes.is_empty() {
            return Ok(());
        }
        let (name, value) =
            attributes.split_once("=\"").ok_or(format!("an unquoted attribute: {attributes:?}"))?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("a bad attribute name {name:?}"));
        }
        let end = value.find('"').ok_or("an attribute value never closed")?;
        if value[..end].contains('<') {
            return Err(format!("a '<' in the attribute {name}"));
        }
        attributes = &value[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_the_characters_xml_reserves() {
        assert_eq!(escape(r#"a<b>&"c"'d'"#), "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
        assert_eq!(escape("µs, 1 KiB"), "µs, 1 KiB");
    }

    #[test]
    fn a_drawn_document_is_well_formed_with_hostile_text() {
        let mut svg = Svg::new(100.0, 50.0);
        svg.line((0.0, 0.0), (10.0, 10.0), "#000", 1.0, "4 2");
        svg.polyline(&[(0.0, 0.0), (5.0, 5.0)], "#f00", "a <label> & \"quotes\"");
        svg.text((1.0, 2.0), Anchor::Middle, 12.0, -90.0, "</svg> & <b>");
        let document = svg.finish();
        check_well_formed(&document).unwrap();
        assert!(document.contains("&lt;/svg&gt; &amp; &lt;b&gt;"));
    }

    #[test]
    fn the_well_formedness_check_rejects_broken_documents() {
        for broken in [
            "<svg><g></svg></g>",
            "<svg><text>a < b</text></svg>",
            "<svg><text>a & b</text></svg>",
            "<svg><rect x=1/></svg>",
            "<svg><g></svg>",
            "<svg/><svg/>",
            "<svg><text>a > b</text></svg>",
        ] {
            assert!(check_well_formed(broken).is_err(), "accepted {broken:?}");
        }
        check_well_formed("<?xml version=\"1.0\"?>\n<svg a=\"1\"><g/><text>x &amp; y</text></svg>\n")
            .unwrap();
    }
}
