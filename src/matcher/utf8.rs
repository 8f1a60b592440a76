//! Alertmanager's UTF-8 matcher parser (`matcher/parse`, since 0.27):
//! label names and values are either double-quoted Go strings or unquoted
//! runs of anything but whitespace and `{}!=~,\"'` and backtick.
//!
//! A port of its lexer and parser state machine, so that what it accepts,
//! what it builds and its error messages (with their `start:end` rune
//! columns) are the same as Alertmanager's.

use super::go_string::go_unquote;
use super::{MatchType, Matcher, MatcherError};

/// Characters that end an unquoted name or value.
pub(super) fn is_reserved(c: char) -> bool {
    // Go's `unicode.IsSpace` and Rust's `char::is_whitespace` are both the
    // Unicode White_Space property.
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Eof,
    OpenBrace,
    CloseBrace,
    Comma,
    Equals,
    NotEquals,
    Matches,
    NotMatches,
    Quoted,
    Unquoted,
}

#[derive(Clone, Copy, Debug, Default)]
struct Position {
    offset_start: usize,
    offset_end: usize,
    column_start: usize,
    column_end: usize,
}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    kind: Kind,
    value: &'a str,
    at: Position,
}

impl Token<'_> {
    fn eof() -> Self {
        Token {
            kind: Kind::Eof,
            value: "",
            at: Position::default(),
        }
    }

    fn is(&self, kinds: &[Kind]) -> bool {
        kinds.contains(&self.kind)
    }

    /// The token's text; a quoted one unescaped as Go's `strconv.Unquote`,
    /// and it must come out as valid UTF-8.
    fn unquote(&self) -> Result<String, MatcherError> {
        if self.kind != Kind::Quoted {
            return Ok(self.value.to_owned());
        }
        go_unquote(self.value).ok_or_else(|| {
            let Position {
                column_start,
                column_end,
                ..
            } = self.at;
            MatcherError::Parse(format!(
                "{column_start}:{column_end}: {}: invalid input",
                self.value
            ))
        })
    }
}

/// Splits the input into tokens. Positions are byte offsets and rune
/// columns, as Alertmanager reports them.
struct Lexer<'a> {
    input: &'a str,
    /// Once the input is invalid every later scan fails the same way.
    err: Option<String>,
    start: usize,
    pos: usize,
    width: usize,
    column: usize,
    cols: usize,
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str) -> Self {
        Lexer {
            input,
            err: None,
            start: 0,
            pos: 0,
            width: 0,
            column: 0,
            cols: 0,
        }
    }

    fn scan(&mut self) -> Result<Token<'a>, String> {
        if let Some(e) = &self.err {
            return Err(e.clone());
        }
        while let Some(c) = self.next() {
            let result = match c {
                '{' => Ok(self.emit(Kind::OpenBrace)),
                '}' => Ok(self.emit(Kind::CloseBrace)),
                ',' => Ok(self.emit(Kind::Comma)),
                '=' | '!' => {
                    self.rewind();
                    self.scan_operator()
                }
                '"' => {
                    self.rewind();
                    self.scan_quoted()
                }
                c if !is_reserved(c) => {
                    self.rewind();
                    Ok(self.scan_unquoted())
                }
                c if c.is_whitespace() => {
                    self.skip();
                    continue;
                }
                _ => Err(self.error(|text| format!("{text}: invalid input"))),
            };
            if let Err(e) = &result {
                self.err = Some(e.clone());
            }
            return result;
        }
        Ok(Token::eof())
    }

    fn scan_operator(&mut self) -> Result<Token<'a>, String> {
        if self.accept("!") {
            if self.accept("=") {
                return Ok(self.emit(Kind::NotEquals));
            }
            if self.accept("~") {
                return Ok(self.emit(Kind::NotMatches));
            }
            return Err(self.expected("=~"));
        }
        if self.accept("=") {
            if self.accept("~") {
                return Ok(self.emit(Kind::Matches));
            }
            return Ok(self.emit(Kind::Equals));
        }
        Err(self.expected("!="))
    }

    fn scan_quoted(&mut self) -> Result<Token<'a>, String> {
        if !self.accept("\"") {
            return Err(self.expected("\""));
        }
        let mut escaped = false;
        while let Some(c) = self.next() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                self.rewind();
                break;
            }
        }
        if !self.accept("\"") {
            return Err(self.error(|text| format!("{text}: missing end \"")));
        }
        Ok(self.emit(Kind::Quoted))
    }

    fn scan_unquoted(&mut self) -> Token<'a> {
        while let Some(c) = self.next() {
            if is_reserved(c) {
                self.rewind();
                break;
            }
        }
        self.emit(Kind::Unquoted)
    }

    /// The next token, without consuming it (a lexer error stays).
    fn peek(&mut self) -> Result<Token<'a>, String> {
        let saved = (self.start, self.pos, self.width, self.column, self.cols);
        let t = self.scan();
        (self.start, self.pos, self.width, self.column, self.cols) = saved;
        t
    }

    fn position(&self) -> Position {
        Position {
            offset_start: self.start,
            offset_end: self.pos,
            column_start: self.column,
            column_end: self.cols,
        }
    }

    /// `start:end: <scanned text>: why`.
    fn error(&self, why: impl Fn(&str) -> String) -> String {
        let at = self.position();
        format!(
            "{}:{}: {}",
            at.column_start,
            at.column_end,
            why(&self.input[at.offset_start..at.offset_end])
        )
    }

    fn expected(&self, what: &str) -> String {
        let at = self.position();
        if at.offset_end >= self.input.len() {
            format!(
                "{}:{}: unexpected end of input, expected one of '{what}'",
                at.column_start, at.column_end
            )
        } else {
            self.error(|text| format!("{text}: expected one of '{what}'"))
        }
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.rewind();
                false
            }
        }
    }

    fn emit(&mut self, kind: Kind) -> Token<'a> {
        let t = Token {
            kind,
            value: &self.input[self.start..self.pos],
            at: self.position(),
        };
        self.start = self.pos;
        self.column = self.cols;
        t
    }

    fn next(&mut self) -> Option<char> {
        let Some(c) = self.input[self.pos..].chars().next() else {
            self.width = 0;
            return None;
        };
        self.width = c.len_utf8();
        self.pos += self.width;
        self.cols += 1;
        Some(c)
    }

    /// Steps back over the last rune; at the end of input there is none.
    fn rewind(&mut self) {
        self.pos -= self.width;
        if self.width > 0 {
            self.cols -= 1;
        }
    }

    fn skip(&mut self) {
        self.start = self.pos;
        self.column = self.cols;
    }
}

/// A parser step's failure: the end of the input (which some steps accept)
/// or a message.
enum Failure {
    Eof,
    Error(MatcherError),
}

impl Failure {
    /// Alertmanager's `fmt.Errorf("%w: %w", err, why)`.
    fn because(self, why: &str) -> MatcherError {
        match self {
            Failure::Eof => MatcherError::Parse(format!("end of input: {why}")),
            Failure::Error(MatcherError::Parse(e)) => MatcherError::Parse(format!("{e}: {why}")),
            Failure::Error(e) => e,
        }
    }
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure::Error(MatcherError::Parse(e))
    }
}

#[derive(Clone, Copy)]
enum State {
    OpenBrace,
    CloseBrace,
    Matcher,
    EndOfMatcher,
    Comma,
    Eof,
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    matchers: Vec<Matcher>,
    has_open_brace: bool,
}

/// Parses zero or more matchers: `{a="b", "c.d"=~e}`, braces optional, a
/// trailing comma allowed.
pub fn parse_matchers(input: &str) -> Result<Vec<Matcher>, MatcherError> {
    let mut p = Parser {
        lexer: Lexer::new(input),
        matchers: Vec::new(),
        has_open_brace: false,
    };
    let mut state = Some(State::OpenBrace);
    while let Some(s) = state {
        state = match s {
            State::OpenBrace => p.open_brace()?,
            State::CloseBrace => p.close_brace()?,
            State::Matcher => p.matcher()?,
            State::EndOfMatcher => p.end_of_matcher()?,
            State::Comma => p.comma()?,
            State::Eof => p.eof()?,
        };
    }
    Ok(p.matchers)
}

/// Parses exactly one matcher.
pub fn parse_matcher(input: &str) -> Result<Matcher, MatcherError> {
    let mut all = parse_matchers(input)?;
    match all.len() {
        1 => Ok(all.remove(0)),
        0 => Err(MatcherError::Parse("no matchers".into())),
        n => Err(MatcherError::Parse(format!(
            "expected 1 matcher, found {n}"
        ))),
    }
}

impl<'a> Parser<'a> {
    fn open_brace(&mut self) -> Result<Option<State>, MatcherError> {
        match self.accept(&[Kind::OpenBrace]) {
            Ok(open) => self.has_open_brace = open,
            Err(Failure::Eof) => return Ok(Some(State::Eof)),
            Err(Failure::Error(e)) => return Err(e),
        }
        match self.accept_peek(&[Kind::CloseBrace]) {
            Ok(true) | Err(Failure::Eof) => Ok(Some(State::CloseBrace)),
            Ok(false) => Ok(Some(State::Matcher)),
            Err(Failure::Error(e)) => Err(e),
        }
    }

    fn close_brace(&mut self) -> Result<Option<State>, MatcherError> {
        let closed = self.expect(&[Kind::CloseBrace]);
        let column = self.lexer.position().column_end;
        match (self.has_open_brace, closed) {
            (true, Err(e)) => {
                let e = e.because("expected close brace");
                Err(MatcherError::Parse(format!("0:{column}: {e}")))
            }
            (false, Ok(_)) => Err(MatcherError::Parse(format!(
                "0:{column}: }}: expected opening brace"
            ))),
            _ => Ok(Some(State::Eof)),
        }
    }

    fn matcher(&mut self) -> Result<Option<State>, MatcherError> {
        let t = self
            .expect(&[Kind::Quoted, Kind::Unquoted])
            .map_err(|e| e.because("expected label name"))?;
        let name = t.unquote()?;
        let t = self
            .expect(&[
                Kind::Equals,
                Kind::NotEquals,
                Kind::Matches,
                Kind::NotMatches,
            ])
            .map_err(|e| e.because("expected an operator such as '=', '!=', '=~' or '!~'"))?;
        let kind = match t.kind {
            Kind::Equals => MatchType::Equal,
            Kind::NotEquals => MatchType::NotEqual,
            Kind::Matches => MatchType::Regex,
            _ => MatchType::NotRegex,
        };
        let t = self
            .expect(&[Kind::Unquoted, Kind::Quoted])
            .map_err(|e| e.because("expected label value"))?;
        let value = t.unquote()?;
        self.matchers.push(Matcher::new(&name, kind, &value)?);
        Ok(Some(State::EndOfMatcher))
    }

    fn end_of_matcher(&mut self) -> Result<Option<State>, MatcherError> {
        match self.expect_peek(&[Kind::Comma, Kind::CloseBrace]) {
            Ok(t) if t.kind == Kind::Comma => Ok(Some(State::Comma)),
            Ok(_) | Err(Failure::Eof) => Ok(Some(State::CloseBrace)),
            Err(e) => Err(e.because("expected a comma or close brace")),
        }
    }

    fn comma(&mut self) -> Result<Option<State>, MatcherError> {
        self.expect(&[Kind::Comma])
            .map_err(|e| e.because("expected a comma"))?;
        match self.expect_peek(&[Kind::CloseBrace, Kind::Unquoted, Kind::Quoted]) {
            Ok(t) if t.kind == Kind::CloseBrace => Ok(Some(State::CloseBrace)),
            Err(Failure::Eof) => Ok(Some(State::CloseBrace)),
            Ok(_) => Ok(Some(State::Matcher)),
            Err(e) => Err(e.because("expected a matcher or close brace after comma")),
        }
    }

    fn eof(&mut self) -> Result<Option<State>, MatcherError> {
        let t = self
            .lexer
            .scan()
            .map_err(|e| Failure::from(e).because("expected end of input"))?;
        if t.kind != Kind::Eof {
            let Position {
                column_start,
                column_end,
                ..
            } = t.at;
            return Err(MatcherError::Parse(format!(
                "{column_start}:{column_end}: {}: expected end of input",
                t.value
            )));
        }
        Ok(None)
    }

    /// Consumes the next token if it is one of `kinds`.
    fn accept(&mut self, kinds: &[Kind]) -> Result<bool, Failure> {
        let ok = self.accept_peek(kinds)?;
        if ok {
            self.lexer.scan()?;
        }
        Ok(ok)
    }

    fn accept_peek(&mut self, kinds: &[Kind]) -> Result<bool, Failure> {
        let t = self.lexer.peek()?;
        if t.kind == Kind::Eof {
            return Err(Failure::Eof);
        }
        Ok(t.is(kinds))
    }

    /// Consumes the next token, which must be one of `kinds`.
    fn expect(&mut self, kinds: &[Kind]) -> Result<Token<'a>, Failure> {
        let t = self.expect_peek(kinds)?;
        self.lexer.scan()?;
        Ok(t)
    }

    fn expect_peek(&mut self, kinds: &[Kind]) -> Result<Token<'a>, Failure> {
        let t = self.lexer.peek()?;
        if t.kind == Kind::Eof {
            return Err(Failure::Eof);
        }
        if !t.is(kinds) {
            let Position {
                column_start,
                column_end,
                ..
            } = t.at;
            return Err(Failure::from(format!(
                "{column_start}:{column_end}: unexpected {}",
                t.value
            )));
        }
        Ok(t)
    }
}
