//! Self-contained HTML reports (inline style, no script, no network resource) and the figures
//! they show: a [`Figure`] is a chart with the file stem it is written under and its caption.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::Chart;

/// A chart to write as `<stem>.svg` and `<stem>.png`, with its caption in the report.
#[derive(Clone, Debug)]
pub struct Figure {
    pub stem: String,
    pub caption: String,
    pub chart: Chart,
}

/// Writes every figure as SVG and PNG into `dir` (which exists).
pub fn write_figures(dir: &Path, figures: &[Figure]) -> io::Result<()> {
    for f in figures {
        crate::write_both(&f.chart, dir, &f.stem).map_err(io::Error::other)?;
    }
    Ok(())
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}\
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:90%}\
figure{margin:1.5em 0}img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#555;font-size:90%}\
.banner{background:#fdecea;border:3px solid #b71c1c;color:#7f0000;padding:.6em 1em;margin:1em 0}\
.banner h2{margin:.2em 0;color:#b71c1c}.banner td,.banner th{border-color:#e8a9a9}.version{color:#777;font-size:85%}";

/// An HTML page built section by section; `finish` closes it. Self-contained: inline style, no
/// script, no network resource; images and links are relative to the page's folder.
#[derive(Debug)]
pub struct Html {
    body: String,
}

impl Html {
    pub fn new(title: &str, subtitle: &str) -> Html {
        let mut body = String::new();
        let _ = write!(
            body,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n\
             <style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n<p>{s}</p>\n",
            t = escape(title),
            s = escape(subtitle)
        );
        Html { body }
    }

    /// A red box that says the results are not what a complete run gives: a title and rows.
    pub fn banner(&mut self, title: &str, rows: &[(String, String)]) {
        let _ = writeln!(self.body, "<div class=\"banner\" role=\"alert\">\n<h2>{}</h2>", escape(title));
        self.body.push_str("<table>\n");
        for (k, v) in rows {
            let _ = writeln!(self.body, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
        }
        self.body.push_str("</table>\n</div>\n");
    }

    /// The byzsim version and commit that wrote the page.
    pub fn version(&mut self, version: &str) {
        let _ = writeln!(self.body, "<p class=\"version\">Written by byzsim {}.</p>", escape(version));
    }

    pub fn heading(&mut self, text: &str) {
        let _ = writeln!(self.body, "<h2>{}</h2>", escape(text));
    }

    pub fn para(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", escape(text));
    }

    /// A table with a header row.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        self.body.push_str("<table>\n<tr>");
        for h in header {
            let _ = write!(self.body, "<th>{}</th>", escape(h));
        }
        self.body.push_str("</tr>\n");
        for row in rows {
            self.body.push_str("<tr>");
            for cell in row {
                let _ = write!(self.body, "<td>{}</td>", escape(cell));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</table>\n");
    }

    /// Key-value rows (a summary) as a two-column table.
    pub fn pairs(&mut self, rows: &[(String, String)]) {
        let rows: Vec<Vec<String>> = rows.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect();
        self.table(&["metric", "value"], &rows);
    }

    /// The figures, each as its SVG linked to its PNG.
    pub fn figures(&mut self, figures: &[Figure]) {
        for f in figures {
            let stem = escape(&f.stem);
            let _ = writeln!(
                self.body,
                "<figure><a href=\"{stem}.png\"><img src=\"{stem}.svg\" alt=\"{alt}\" width=\"960\"></a>\
                 <figcaption>{caption} (<a href=\"{stem}.svg\">SVG</a>, <a href=\"{stem}.png\">PNG</a>)</figcaption></figure>",
                alt = escape(&f.chart.title),
                caption = escape(&f.caption)
            );
        }
    }

    pub fn pre(&mut self, text: &str) {
        let _ = writeln!(self.body, "<pre>{}</pre>", escape(text));
    }

    /// Links to files of the folder.
    pub fn files(&mut self, names: &[&str]) {
        let links: Vec<String> = names.iter().map(|n| format!("<a href=\"{0}\">{0}</a>", escape(n))).collect();
        let _ = writeln!(self.body, "<p>Files: {}</p>", links.join(", "));
    }

    pub fn finish(mut self) -> String {
        self.body.push_str("</body>\n</html>\n");
        self.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_and_closes() {
        let mut page = Html::new("a <b>", "x & y");
        page.table(&["k"], &[vec!["\"q\"".into()]]);
        page.pre("</pre><script>");
        let html = page.finish();
        assert!(html.contains("<title>a &lt;b&gt;</title>"));
        assert!(html.contains("&quot;q&quot;"));
        assert!(html.contains("&lt;/pre&gt;&lt;script&gt;"));
        assert!(!html.contains("http"), "no network resource");
        assert!(html.ends_with("</html>\n"));
    }
}
