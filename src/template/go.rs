//! Go text/template compatibility on top of gotmpl: parsing with
//! positions, the rewrite of field steps into [`CALL`] (gotmpl has no Go
//! method calls), the load-time check for unknown functions (Go's parser
//! does it, gotmpl only notices when it renders), and compilation of a
//! config field into a text or html template sharing the defined ones.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use gotmpl::parse::{
    BranchNode, CommandNode, DefineNode, Expr, ListNode, Node, Parser, PipeNode, Pos,
};
use gotmpl::{FuncMap, Value};

use super::functions::CALL;
use super::{Flavor, TemplateError};

/// The name under which a field's own text is executed.
pub(crate) const FIELD: &str = "klaxon.field";

/// Alertmanager 0.34's function over the route's rendered labels.
pub(crate) const ROUTE_LABELS: &str = "routeLabels";

/// Parses Go template source, rewrites it, and checks its functions.
/// `origin` names the source in errors (a file path, or `inline`).
pub(crate) fn parse(
    origin: &str,
    src: &str,
    known: &HashSet<String>,
) -> Result<(ListNode, Vec<DefineNode>), TemplateError> {
    let parsed = Parser::new(src, "{{", "}}").and_then(|p| p.parse());
    let (mut tree, mut defines) = parsed.map_err(|e| parse_error(origin, e))?;
    check_blocks(src).map_err(|(line, message)| TemplateError::Parse {
        origin: origin.to_owned(),
        line: Some(line),
        message,
    })?;
    let mut seen = HashSet::new();
    for d in &defines {
        // Go refuses two non-empty bodies for one name in one file.
        if !d.body.is_empty_tree() && !seen.insert(d.name.clone()) {
            return Err(TemplateError::Parse {
                origin: origin.to_owned(),
                line: Some(d.pos.line),
                message: format!("template: multiple definition of template {:?}", d.name),
            });
        }
    }
    rewrite_list(&mut tree);
    for d in &mut defines {
        rewrite_list(&mut d.body);
    }
    let mut unknown = None;
    visit_identifiers(&tree, &mut |pos, name| {
        if unknown.is_none() && !known.contains(name) {
            unknown = Some((pos, name.to_owned()));
        }
    });
    for d in &defines {
        visit_identifiers(&d.body, &mut |pos, name| {
            if unknown.is_none() && !known.contains(name) {
                unknown = Some((pos, name.to_owned()));
            }
        });
    }
    if let Some((pos, name)) = unknown {
        return Err(TemplateError::Parse {
            origin: origin.to_owned(),
            line: Some(pos.line),
            message: format!("function {name:?} not defined"),
        });
    }
    Ok((tree, defines))
}

fn parse_error(origin: &str, e: gotmpl::TemplateError) -> TemplateError {
    match e {
        gotmpl::TemplateError::Parse { line, message, .. }
        | gotmpl::TemplateError::Lex { line, message, .. } => TemplateError::Parse {
            origin: origin.to_owned(),
            line: (line > 0).then_some(line),
            message,
        },
        other => TemplateError::Parse {
            origin: origin.to_owned(),
            line: None,
            message: other.to_string(),
        },
    }
}

/// The defined templates of a set, in load order (a later definition of a
/// name replaces an earlier one, an empty one never does, as in Go).
#[derive(Default, Clone)]
pub(crate) struct Defines(BTreeMap<String, Arc<ListNode>>);

impl Defines {
    pub(crate) fn add(&mut self, name: &str, body: ListNode) {
        if body.is_empty_tree() && self.0.contains_key(name) {
            return;
        }
        self.0.insert(name.to_owned(), Arc::new(body));
    }
}

/// A compiled field, ready to execute.
pub(crate) enum Compiled {
    Text(gotmpl::Template),
    Html(gotmpl::html::Template),
}

/// The base templates every field of one set starts from: all defines and
/// functions, no body. Cloning one is cheap (the trees are shared).
#[derive(Clone)]
pub(crate) struct Base {
    text: gotmpl::Template,
    html: gotmpl::html::Template,
}

impl Base {
    pub(crate) fn new(defines: &Defines, funcs: FuncMap) -> Base {
        // Parsing "" only gives the templates a (empty) root, which html
        // escaping insists on; it cannot fail.
        let mut text = gotmpl::Template::new(FIELD).funcs(funcs.clone());
        text = text
            .parse("")
            .unwrap_or_else(|_| gotmpl::Template::new(FIELD));
        let mut html = gotmpl::html::Template::new(FIELD).funcs(funcs);
        html = html
            .parse("")
            .unwrap_or_else(|_| gotmpl::html::Template::new(FIELD));
        for (name, body) in &defines.0 {
            text = text.add_parse_tree(name, (**body).clone());
            // Only fails once executed, and this one never was.
            if let Ok(h) = html.clone().add_parse_tree(name, (**body).clone()) {
                html = h;
            }
        }
        Base { text, html }
    }

    /// Compiles a field's text. Html escaping is analysed here, not at the
    /// first send, so an escaping error is a load-time error too.
    pub(crate) fn compile(
        &self,
        origin: &str,
        src: &str,
        flavor: Flavor,
        known: &HashSet<String>,
    ) -> Result<Compiled, TemplateError> {
        let (tree, defines) = parse(origin, src, known)?;
        match flavor {
            Flavor::Text => {
                let mut t = self.text.clone();
                for d in defines {
                    t = t.add_parse_tree(&d.name, d.body);
                }
                Ok(Compiled::Text(t.add_parse_tree(FIELD, tree)))
            }
            Flavor::Html => {
                let map_err = |e: gotmpl::TemplateError| TemplateError::Parse {
                    origin: origin.to_owned(),
                    line: None,
                    message: e.to_string(),
                };
                let mut t = self.html.clone();
                for d in defines {
                    t = t.add_parse_tree(&d.name, d.body).map_err(map_err)?;
                }
                let t = t.add_parse_tree(FIELD, tree).map_err(map_err)?;
                // Executing runs (and caches) the escaping analysis; only an
                // escaping error matters here, the data is a placeholder. A
                // missing `{{template}}` is left to render time, as in Go's
                // text/template (Alertmanager accepts such a config).
                if let Err(e @ gotmpl::TemplateError::Escape { code, line: l, .. }) =
                    t.execute_template_to_string(FIELD, &Value::Nil)
                    && code != gotmpl::EscapeErrorCode::NoSuchTemplate
                {
                    return Err(TemplateError::Parse {
                        origin: origin.to_owned(),
                        line: (l > 0).then_some(l),
                        message: e.to_string(),
                    });
                }
                Ok(Compiled::Html(t))
            }
        }
    }

    /// Executes a defined template by name (the layouts' fallback path).
    pub(crate) fn execute_named(&self, name: &str, data: &Value) -> Result<String, TemplateError> {
        self.text
            .execute_template_to_string(name, data)
            .map_err(|e| TemplateError::Render(e.to_string()))
    }
}

impl Compiled {
    pub(crate) fn execute(&self, data: &Value) -> Result<String, TemplateError> {
        let out = match self {
            Compiled::Text(t) => t.execute_template_to_string(FIELD, data),
            Compiled::Html(t) => t.execute_template_to_string(FIELD, data),
        };
        out.map_err(|e| TemplateError::Render(e.to_string()))
    }
}

/// What gotmpl's parser lets through and Go's rejects: an `if`, `range`,
/// `with`, `define` or `block` without its `{{end}}` (gotmpl would quietly
/// end it at the end of the file), and an `{{end}}` or `{{else}}` outside
/// any block (gotmpl would drop the rest of the file).
fn check_blocks(src: &str) -> Result<(), (usize, String)> {
    let b = src.as_bytes();
    let line_at = |i: usize| 1 + b[..i].iter().filter(|&&c| c == b'\n').count();
    let mut open: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while let Some(start) = src[i..].find("{{").map(|p| p + i) {
        let mut j = start + 2;
        if b.get(j) == Some(&b'-') && b.get(j + 1).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        while b.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        if src[j..].starts_with("/*") {
            // The parser already vouched for the comment's closing.
            i = src[j..].find("*/").map_or(b.len(), |p| j + p + 2);
            continue;
        }
        let word_end = src[j..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(b.len(), |p| j + p);
        let word = &src[j..word_end];
        // Skip to the closing delimiter, over quoted strings.
        let mut k = word_end;
        let mut quote: Option<u8> = None;
        while k < b.len() {
            match (quote, b[k]) {
                (Some(q), b'\\') if q != b'`' => k += 1,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, c @ (b'"' | b'`' | b'\'')) => quote = Some(c),
                (None, b'}') if b.get(k + 1) == Some(&b'}') => break,
                (None, _) => {}
            }
            k += 1;
        }
        match word {
            "if" | "range" | "with" | "define" | "block" => {
                open.push((line_at(start), word.to_owned()))
            }
            // The guard pops: an `end` closes the innermost block.
            "end" if open.pop().is_none() => {
                return Err((line_at(start), "unexpected {{end}}".into()));
            }
            "else" if open.is_empty() => {
                return Err((line_at(start), "unexpected {{else}}".into()));
            }
            _ => {}
        }
        i = (k + 2).min(b.len());
    }
    match open.pop() {
        Some((line, word)) => Err((
            line,
            format!("unexpected EOF: {{{{{word}}}}} has no {{{{end}}}}"),
        )),
        None => Ok(()),
    }
}

// ---- the rewrite -------------------------------------------------------

fn rewrite_list(list: &mut ListNode) {
    for node in &mut list.nodes {
        match node {
            Node::List(l) => rewrite_list(l),
            Node::Action(a) => rewrite_pipe(&mut a.pipe),
            Node::If(b) | Node::Range(b) | Node::With(b) => rewrite_branch(b),
            Node::Template(t) => {
                if let Some(p) = &mut t.pipe {
                    rewrite_pipe(p);
                }
            }
            Node::Define(d) => rewrite_list(&mut d.body),
            Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
        }
    }
}

fn rewrite_branch(b: &mut BranchNode) {
    rewrite_pipe(&mut b.pipe);
    rewrite_list(&mut b.body);
    if let Some(e) = &mut b.else_body {
        rewrite_list(e);
    }
}

fn rewrite_pipe(pipe: &mut PipeNode) {
    for cmd in &mut pipe.commands {
        rewrite_command(cmd);
    }
}

/// `.A.B x y` becomes `CALL (CALL . "A") "B" x y`, so the last step gets
/// the command's arguments (and the piped value) as a Go method would.
/// `routeLabels x` becomes `index $.RouteLabels x`: Alertmanager's function
/// reads the data of the whole render, which is `$`.
fn rewrite_command(cmd: &mut CommandNode) {
    if let Some(Expr::Identifier(pos, name)) = cmd.args.first()
        && name.as_str() == ROUTE_LABELS
    {
        let pos = *pos;
        cmd.args[0] = Expr::Identifier(pos, "index".into());
        let labels = Expr::Variable(pos, "$".into(), vec!["RouteLabels".into()]);
        cmd.args.insert(1, labels);
    }
    let mut args = std::mem::take(&mut cmd.args).into_iter();
    let Some(first) = args.next() else { return };
    let rest: Vec<Expr> = args.map(rewrite_expr).collect();
    let split = match first {
        Expr::Field(pos, fields) => Some((Expr::Dot(pos), fields, pos)),
        Expr::Variable(pos, name, fields) if !fields.is_empty() => {
            Some((Expr::Variable(pos, name, Vec::new()), fields, pos))
        }
        Expr::Chain(pos, inner, fields) => Some((rewrite_expr(*inner), fields, pos)),
        other => {
            cmd.args.push(rewrite_expr(other));
            None
        }
    };
    if let Some((base, mut fields, pos)) = split {
        let Some(last) = fields.pop() else {
            cmd.args.push(base);
            cmd.args.extend(rest);
            return;
        };
        let receiver = steps(base, &fields, pos);
        cmd.args.push(Expr::Identifier(pos, CALL.into()));
        cmd.args.push(receiver);
        cmd.args.push(Expr::String(pos, Arc::from(last.as_str())));
    }
    cmd.args.extend(rest);
}

fn rewrite_expr(e: Expr) -> Expr {
    match e {
        Expr::Field(pos, fields) => steps(Expr::Dot(pos), &fields, pos),
        Expr::Variable(pos, name, fields) if !fields.is_empty() => {
            steps(Expr::Variable(pos, name, Vec::new()), &fields, pos)
        }
        Expr::Chain(pos, inner, fields) => steps(rewrite_expr(*inner), &fields, pos),
        Expr::Pipe(pos, mut pipe) => {
            rewrite_pipe(&mut pipe);
            Expr::Pipe(pos, pipe)
        }
        other => other,
    }
}

/// Nests one [`CALL`] per field step around `base`.
fn steps(base: Expr, fields: &[gotmpl::parse::SmolStr], pos: Pos) -> Expr {
    fields.iter().fold(base, |receiver, field| {
        Expr::Pipe(
            pos,
            PipeNode {
                pos,
                decl: Vec::new(),
                is_assign: false,
                commands: vec![CommandNode {
                    pos,
                    args: vec![
                        Expr::Identifier(pos, CALL.into()),
                        receiver,
                        Expr::String(pos, Arc::from(field.as_str())),
                    ],
                }],
            },
        )
    })
}

// ---- the function check ------------------------------------------------

fn visit_identifiers(list: &ListNode, f: &mut dyn FnMut(Pos, &str)) {
    for node in &list.nodes {
        match node {
            Node::List(l) => visit_identifiers(l, f),
            Node::Action(a) => visit_pipe(&a.pipe, f),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                visit_pipe(&b.pipe, f);
                visit_identifiers(&b.body, f);
                if let Some(e) = &b.else_body {
                    visit_identifiers(e, f);
                }
            }
            Node::Template(t) => {
                if let Some(p) = &t.pipe {
                    visit_pipe(p, f);
                }
            }
            Node::Define(d) => visit_identifiers(&d.body, f),
            Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
        }
    }
}

fn visit_pipe(pipe: &PipeNode, f: &mut dyn FnMut(Pos, &str)) {
    for cmd in &pipe.commands {
        for arg in &cmd.args {
            visit_expr(arg, f);
        }
    }
}

fn visit_expr(e: &Expr, f: &mut dyn FnMut(Pos, &str)) {
    match e {
        Expr::Identifier(pos, name) => f(*pos, name),
        Expr::Pipe(_, p) => visit_pipe(p, f),
        Expr::Chain(_, inner, _) => visit_expr(inner, f),
        _ => {}
    }
}
