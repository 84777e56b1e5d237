//! A pickle machine that builds a graph of plain values and never executes anything.
//!
//! Python's unpickler imports every global a stream names and calls it (REDUCE), which is how
//! a .pth file can run code. This one knows the opcodes torch's pickles use (protocols 0 to
//! 5, as `pickletools` documents them), turns an allowed global into a tag
//! ([`Global`]) and any other into an error naming it, and records a call of an allowed global
//! as data ([`Object::Call`]) for [`crate::torch`] to interpret. Persistent ids (how torch
//! points at tensor storages) are recorded the same way.
//!
//! Objects live in an arena and refer to each other by index, so the memo can share them as
//! Python does (a dict memoised empty and filled afterwards is seen filled) without reference
//! counting, cycles cost nothing, and memory grows at most linearly with the stream.
//!
//! Why not a crate: serde-pickle has no persistent ids (BINPERSID) and collapses every
//! global it does not know into one anonymous value, so neither torch's storages nor the name
//! of a refused global survive; the torch-specific crates on crates.io are 0.0.x.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use crate::globals::Global;

pub(crate) type Id = usize;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Object {
    None,
    Bool(bool),
    Int(i64),
    /// An integer beyond 64 bits, as LONG1/LONG4 store it: little-endian two's complement.
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Id>),
    List(Vec<Id>),
    /// `dict` or `collections.OrderedDict`: items in insertion order (a repeated key is
    /// resolved by the reader, last value wins).
    Dict(Vec<(Id, Id)>),
    /// An allowed global, not called.
    Global(Global),
    /// `func(*args)` recorded, not executed; `args` is a tuple.
    Call {
        func: Global,
        args: Id,
    },
    /// What a persistent id stands for (in torch, a storage): the id object itself.
    Persistent(Id),
}

impl Object {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Object::None => "None",
            Object::Bool(_) => "bool",
            Object::Int(_) | Object::BigInt(_) => "int",
            Object::Float(_) => "float",
            Object::Str(_) => "str",
            Object::Bytes(_) => "bytes",
            Object::Tuple(_) => "tuple",
            Object::List(_) => "list",
            Object::Dict(_) => "dict",
            Object::Global(_) => "class or function",
            Object::Call { .. } => "object",
            Object::Persistent(_) => "persistent id",
        }
    }
}

/// What went wrong, at which byte of the stream.
#[derive(Debug)]
pub(crate) struct PickleError {
    pub offset: u64,
    pub fault: Fault,
}

#[derive(Debug)]
pub(crate) enum Fault {
    Truncated,
    Io(std::io::Error),
    Malformed(String),
    Opcode(u8, &'static str),
    Global { module: String, name: String },
}

/// The objects one or more pickles built; [`Unpickler::load`] returns the root of each.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    objects: Vec<Object>,
}

impl Arena {
    pub(crate) fn get(&self, id: Id) -> &Object {
        &self.objects[id]
    }

    pub(crate) fn ids(&self) -> std::ops::Range<Id> {
        0..self.objects.len()
    }

    fn push(&mut self, o: Object) -> Id {
        self.objects.push(o);
        self.objects.len() - 1
    }
}

/// Bytes from a reader, counted, with the number left known so that no length read from
/// the stream allocates more than the stream holds.
pub(crate) struct Input<R> {
    inner: R,
    pos: u64,
    len: u64,
}

impl<R: Read> Input<R> {
    pub(crate) fn new(inner: R, len: u64) -> Input<R> {
        Input { inner, pos: 0, len }
    }

    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    pub(crate) fn remaining(&self) -> u64 {
        self.len - self.pos
    }

    pub(crate) fn bytes(&mut self, n: u64) -> Result<Vec<u8>, PickleError> {
        if n > self.remaining() {
            return Err(self.error(Fault::Truncated));
        }
        let mut buf = vec![0; n as usize];
        self.inner
            .read_exact(&mut buf)
            .map_err(|e| self.error(Fault::Io(e)))?;
        self.pos += n;
        Ok(buf)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], PickleError> {
        if (N as u64) > self.remaining() {
            return Err(self.error(Fault::Truncated));
        }
        let mut buf = [0; N];
        self.inner
            .read_exact(&mut buf)
            .map_err(|e| self.error(Fault::Io(e)))?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.array::<1>()?[0])
    }

    /// A text argument of the protocol-0 opcodes: up to (not including) a newline.
    fn line(&mut self) -> Result<Vec<u8>, PickleError> {
        let mut line = Vec::new();
        loop {
            match self.u8()? {
                b'\n' => return Ok(line),
                b => line.push(b),
            }
        }
    }

    pub(crate) fn error(&self, fault: Fault) -> PickleError {
        PickleError {
            offset: self.pos,
            fault,
        }
    }
}

impl<R: Read + Seek> Input<R> {
    /// Steps over `n` bytes without reading them.
    pub(crate) fn skip(&mut self, n: u64) -> Result<(), PickleError> {
        let step = i64::try_from(n).ok().filter(|_| n <= self.remaining());
        let Some(step) = step else {
            return Err(self.error(Fault::Truncated));
        };
        self.inner
            .seek(SeekFrom::Current(step))
            .map_err(|e| self.error(Fault::Io(e)))?;
        self.pos += n;
        Ok(())
    }
}

/// Runs pickles from an [`Input`], building objects in an [`Arena`].
pub(crate) struct Unpickler<'a> {
    pub(crate) arena: &'a mut Arena,
    stack: Vec<Id>,
    /// Stack heights at each MARK (CPython's metastack).
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
    /// Where the opcode being run started, for errors.
    at: u64,
}

impl<'a> Unpickler<'a> {
    pub(crate) fn new(arena: &'a mut Arena) -> Unpickler<'a> {
        Unpickler {
            arena,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            at: 0,
        }
    }

    /// Runs one pickle (up to and including its STOP) and returns the object it built.
    pub(crate) fn load<R: Read>(&mut self, input: &mut Input<R>) -> Result<Id, PickleError> {
        self.stack.clear();
        self.marks.clear();
        self.memo.clear();
        loop {
            self.at = input.pos();
            let op = input.u8()?;
            if op == op::STOP {
                let root = self.pop()?;
                return Ok(root);
            }
            self.step(op, input)?;
        }
    }

    fn step<R: Read>(&mut self, op: u8, input: &mut Input<R>) -> Result<(), PickleError> {
        use op::*;
        match op {
            PROTO => {
                let version = input.u8()?;
                if version > 5 {
                    return Err(self.malformed(format!("pickle protocol {version} (at most 5)")));
                }
            }
            FRAME => {
                input.array::<8>()?; // frames only group opcodes for buffering
            }
            MARK => self.marks.push(self.stack.len()),
            POP => {
                // POP with an open mark at the top of the stack discards the mark
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    self.pop()?;
                }
            }
            POP_MARK => {
                self.pop_mark()?;
            }
            DUP => {
                let top = self.top()?;
                self.stack.push(top);
            }
            NONE => self.push(Object::None),
            NEWTRUE => self.push(Object::Bool(true)),
            NEWFALSE => self.push(Object::Bool(false)),
            BININT => self.push(Object::Int(i32::from_le_bytes(input.array()?) as i64)),
            BININT1 => self.push(Object::Int(input.u8()? as i64)),
            BININT2 => self.push(Object::Int(u16::from_le_bytes(input.array()?) as i64)),
            LONG1 => {
                let n = input.u8()? as u64;
                let bytes = input.bytes(n)?;
                self.push(long_from_bytes(bytes));
            }
            LONG4 => {
                let n = i32::from_le_bytes(input.array()?);
                if n < 0 {
                    return Err(self.malformed("LONG4 with a negative length".into()));
                }
                let bytes = input.bytes(n as u64)?;
                self.push(long_from_bytes(bytes));
            }
            INT => {
                let line = input.line()?;
                let o = match line.as_slice() {
                    b"00" => Object::Bool(false),
                    b"01" => Object::Bool(true),
                    text => Object::Int(self.parse_int(text)?),
                };
                self.push(o);
            }
            LONG => {
                let line = input.line()?;
                let text = line.strip_suffix(b"L").unwrap_or(&line);
                let value = self.parse_int(text)?;
                self.push(Object::Int(value));
            }
            FLOAT => {
                let line = input.line()?;
                let value = std::str::from_utf8(&line)
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .ok_or_else(|| self.malformed("FLOAT with a malformed number".into()))?;
                self.push(Object::Float(value));
            }
            BINFLOAT => self.push(Object::Float(f64::from_be_bytes(input.array()?))),
            // Python 2 str: text when it is UTF-8 (torch loads with encoding="utf-8")
            SHORT_BINSTRING => {
                let n = input.u8()? as u64;
                let bytes = input.bytes(n)?;
                self.push(text_or_bytes(bytes));
            }
            BINSTRING => {
                let n = i32::from_le_bytes(input.array()?);
                if n < 0 {
                    return Err(self.malformed("BINSTRING with a negative length".into()));
                }
                let bytes = input.bytes(n as u64)?;
                self.push(text_or_bytes(bytes));
            }
            STRING => {
                let line = input.line()?;
                let o = self.quoted_string(&line)?;
                self.push(o);
            }
            SHORT_BINUNICODE => {
                let n = input.u8()? as u64;
                let s = self.utf8(input.bytes(n)?)?;
                self.push(Object::Str(s));
            }
            BINUNICODE => {
                let n = u32::from_le_bytes(input.array()?) as u64;
                let s = self.utf8(input.bytes(n)?)?;
                self.push(Object::Str(s));
            }
            BINUNICODE8 => {
                let n = u64::from_le_bytes(input.array()?);
                let s = self.utf8(input.bytes(n)?)?;
                self.push(Object::Str(s));
            }
            UNICODE => {
                let line = input.line()?;
                if line.contains(&b'\\') {
                    return Err(self.malformed("UNICODE with escapes is not supported".into()));
                }
                let s = self.utf8(line)?;
                self.push(Object::Str(s));
            }
            SHORT_BINBYTES => {
                let n = input.u8()? as u64;
                let b = input.bytes(n)?;
                self.push(Object::Bytes(b));
            }
            BINBYTES => {
                let n = u32::from_le_bytes(input.array()?) as u64;
                let b = input.bytes(n)?;
                self.push(Object::Bytes(b));
            }
            BINBYTES8 | BYTEARRAY8 => {
                let n = u64::from_le_bytes(input.array()?);
                let b = input.bytes(n)?;
                self.push(Object::Bytes(b));
            }
            EMPTY_TUPLE => self.push(Object::Tuple(Vec::new())),
            TUPLE1 | TUPLE2 | TUPLE3 => {
                let n = (op - TUPLE1 + 1) as usize;
                if self.stack.len() < n + self.marks.last().copied().unwrap_or(0) {
                    return Err(self.underflow());
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.push(Object::Tuple(items));
            }
            TUPLE => {
                let items = self.pop_mark()?;
                self.push(Object::Tuple(items));
            }
            EMPTY_LIST => self.push(Object::List(Vec::new())),
            LIST => {
                let items = self.pop_mark()?;
                self.push(Object::List(items));
            }
            APPEND => {
                let item = self.pop()?;
                self.list_at_top()?.push(item);
            }
            APPENDS => {
                let items = self.pop_mark()?;
                self.list_at_top()?.extend(items);
            }
            EMPTY_DICT => self.push(Object::Dict(Vec::new())),
            DICT => {
                let items = self.pop_mark()?;
                let pairs = self.pairs(items)?;
                self.push(Object::Dict(pairs));
            }
            SETITEM => {
                let value = self.pop()?;
                let key = self.pop()?;
                self.dict_at_top()?.push((key, value));
            }
            SETITEMS => {
                let items = self.pop_mark()?;
                let pairs = self.pairs(items)?;
                self.dict_at_top()?.extend(pairs);
            }
            GLOBAL => {
                let module = input.line()?;
                let name = input.line()?;
                let (module, name) = (self.utf8(module)?, self.utf8(name)?);
                let g = self.global(module, name)?;
                self.push(Object::Global(g));
            }
            STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (Object::Str(module), Object::Str(name)) =
                    (self.arena.get(module), self.arena.get(name))
                else {
                    return Err(self.malformed("STACK_GLOBAL needs two strings".into()));
                };
                let g = self.global(module.clone(), name.clone())?;
                self.push(Object::Global(g));
            }
            REDUCE => {
                let args = self.pop()?;
                let func = self.pop()?;
                let o = self.call(func, args)?;
                self.push(o);
            }
            NEWOBJ => {
                let args = self.pop()?;
                let cls = self.pop()?;
                match self.arena.get(cls) {
                    Object::Global(Global::OrderedDict) => self.push(Object::Dict(Vec::new())),
                    other => {
                        let what = other.kind();
                        return Err(self.malformed(format!("NEWOBJ of a {what}")));
                    }
                }
                let _ = args;
            }
            BUILD => {
                // sets attributes (`state_dict._metadata`) or a tensor's Python state: neither
                // matters for the values, so the state is dropped
                let _state = self.pop()?;
                let target = self.top()?;
                match self.arena.get(target) {
                    Object::Dict(_) | Object::Call { .. } => {}
                    other => {
                        let what = other.kind();
                        return Err(self.malformed(format!("BUILD on a {what}")));
                    }
                }
            }
            BINPERSID => {
                let pid = self.pop()?;
                self.push(Object::Persistent(pid));
            }
            PERSID => {
                let line = input.line()?;
                let pid = Object::Str(self.utf8(line)?);
                let id = self.arena.push(pid);
                self.push(Object::Persistent(id));
            }
            BINPUT => {
                let i = input.u8()? as u64;
                self.put(i)?;
            }
            LONG_BINPUT => {
                let i = u32::from_le_bytes(input.array()?) as u64;
                self.put(i)?;
            }
            PUT => {
                let line = input.line()?;
                let i = self.parse_int(&line)?;
                self.put(i as u64)?;
            }
            MEMOIZE => {
                let i = self.memo.len() as u64;
                self.put(i)?;
            }
            BINGET => {
                let i = input.u8()? as u64;
                self.get(i)?;
            }
            LONG_BINGET => {
                let i = u32::from_le_bytes(input.array()?) as u64;
                self.get(i)?;
            }
            GET => {
                let line = input.line()?;
                let i = self.parse_int(&line)?;
                self.get(i as u64)?;
            }
            other => {
                return Err(PickleError {
                    offset: self.at,
                    fault: Fault::Opcode(other, op::name(other)),
                });
            }
        }
        Ok(())
    }

    fn global(&self, module: String, name: String) -> Result<Global, PickleError> {
        Global::find(&module, &name).ok_or(PickleError {
            offset: self.at,
            fault: Fault::Global { module, name },
        })
    }

    /// REDUCE: `func(*args)`. `OrderedDict()` becomes a dict (SETITEMS fills it next); a
    /// call of any other allowed global is recorded for the torch layer.
    fn call(&mut self, func: Id, args: Id) -> Result<Object, PickleError> {
        let Object::Tuple(items) = self.arena.get(args) else {
            return Err(self.malformed("REDUCE arguments are not a tuple".into()));
        };
        match *self.arena.get(func) {
            Object::Global(Global::OrderedDict) => match items.as_slice() {
                [] => Ok(Object::Dict(Vec::new())),
                // OrderedDict([(k, v), ...])
                [list] => {
                    let pairs = self.pair_list(*list)?;
                    Ok(Object::Dict(pairs))
                }
                _ => Err(self.malformed("OrderedDict with more than one argument".into())),
            },
            Object::Global(g) => Ok(Object::Call { func: g, args }),
            ref other => {
                let what = other.kind();
                Err(self.malformed(format!("REDUCE calls a {what}")))
            }
        }
    }

    fn pair_list(&self, list: Id) -> Result<Vec<(Id, Id)>, PickleError> {
        let (Object::List(items) | Object::Tuple(items)) = self.arena.get(list) else {
            return Err(self.malformed("OrderedDict of a non-list".into()));
        };
        items
            .iter()
            .map(|&pair| match self.arena.get(pair) {
                Object::Tuple(kv) if kv.len() == 2 => Ok((kv[0], kv[1])),
                _ => Err(self.malformed("OrderedDict item is not a pair".into())),
            })
            .collect()
    }

    fn push(&mut self, o: Object) {
        let id = self.arena.push(o);
        self.stack.push(id);
    }

    fn pop(&mut self) -> Result<Id, PickleError> {
        if self.stack.len() <= self.marks.last().copied().unwrap_or(0) {
            return Err(self.underflow());
        }
        Ok(self.stack.pop().expect("checked"))
    }

    fn pop_mark(&mut self) -> Result<Vec<Id>, PickleError> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| self.malformed("no MARK to pop to".into()))?;
        Ok(self.stack.split_off(mark))
    }

    fn pairs(&self, items: Vec<Id>) -> Result<Vec<(Id, Id)>, PickleError> {
        if !items.len().is_multiple_of(2) {
            return Err(self.malformed("odd number of dict items".into()));
        }
        Ok(items.chunks_exact(2).map(|kv| (kv[0], kv[1])).collect())
    }

    fn list_at_top(&mut self) -> Result<&mut Vec<Id>, PickleError> {
        let top = self.top()?;
        if !matches!(self.arena.objects[top], Object::List(_)) {
            let what = self.arena.objects[top].kind();
            return Err(self.malformed(format!("APPEND to a {what}")));
        }
        match &mut self.arena.objects[top] {
            Object::List(items) => Ok(items),
            _ => unreachable!("checked above"),
        }
    }

    fn dict_at_top(&mut self) -> Result<&mut Vec<(Id, Id)>, PickleError> {
        let top = self.top()?;
        if !matches!(self.arena.objects[top], Object::Dict(_)) {
            let what = self.arena.objects[top].kind();
            return Err(self.malformed(format!("SETITEM on a {what}")));
        }
        match &mut self.arena.objects[top] {
            Object::Dict(items) => Ok(items),
            _ => unreachable!("checked above"),
        }
    }

    fn top(&self) -> Result<Id, PickleError> {
        if self.stack.len() <= self.marks.last().copied().unwrap_or(0) {
            return Err(self.underflow());
        }
        Ok(*self.stack.last().expect("checked"))
    }

    fn put(&mut self, i: u64) -> Result<(), PickleError> {
        let top = self.top()?;
        self.memo.insert(i, top);
        Ok(())
    }

    fn get(&mut self, i: u64) -> Result<(), PickleError> {
        let id = *self
            .memo
            .get(&i)
            .ok_or_else(|| self.malformed(format!("memo entry {i} read before it was written")))?;
        self.stack.push(id);
        Ok(())
    }

    fn parse_int(&self, text: &[u8]) -> Result<i64, PickleError> {
        std::str::from_utf8(text)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .ok_or_else(|| self.malformed("malformed or too large text integer".into()))
    }

    fn utf8(&self, bytes: Vec<u8>) -> Result<String, PickleError> {
        String::from_utf8(bytes).map_err(|_| self.malformed("text that is not UTF-8".into()))
    }

    /// STRING's argument: a Python repr in single or double quotes, without escapes.
    fn quoted_string(&self, line: &[u8]) -> Result<Object, PickleError> {
        let inner = match line {
            [b'\'', inner @ .., b'\''] | [b'"', inner @ .., b'"'] => inner,
            _ => return Err(self.malformed("STRING without quotes".into())),
        };
        if inner.contains(&b'\\') {
            return Err(self.malformed("STRING with escapes is not supported".into()));
        }
        Ok(text_or_bytes(inner.to_vec()))
    }

    fn underflow(&self) -> PickleError {
        self.malformed("stack underflow".into())
    }

    fn malformed(&self, message: String) -> PickleError {
        PickleError {
            offset: self.at,
            fault: Fault::Malformed(message),
        }
    }
}

fn text_or_bytes(bytes: Vec<u8>) -> Object {
    match String::from_utf8(bytes) {
        Ok(s) => Object::Str(s),
        Err(e) => Object::Bytes(e.into_bytes()),
    }
}

/// LONG1/LONG4: little-endian two's complement of any length.
fn long_from_bytes(bytes: Vec<u8>) -> Object {
    if bytes.len() > 8 {
        return Object::BigInt(bytes);
    }
    if bytes.is_empty() {
        return Object::Int(0);
    }
    let negative = bytes[bytes.len() - 1] & 0x80 != 0;
    let mut buf = [if negative { 0xff } else { 0 }; 8];
    buf[..bytes.len()].copy_from_slice(&bytes);
    Object::Int(i64::from_le_bytes(buf))
}

/// Opcode values and names, as in CPython's `pickletools`.
pub(crate) mod op {
    pub const MARK: u8 = b'(';
    pub const STOP: u8 = b'.';
    pub const POP: u8 = b'0';
    pub const POP_MARK: u8 = b'1';
    pub const DUP: u8 = b'2';
    pub const FLOAT: u8 = b'F';
    pub const INT: u8 = b'I';
    pub const BININT: u8 = b'J';
    pub const BININT1: u8 = b'K';
    pub const LONG: u8 = b'L';
    pub const BININT2: u8 = b'M';
    pub const NONE: u8 = b'N';
    pub const PERSID: u8 = b'P';
    pub const BINPERSID: u8 = b'Q';
    pub const REDUCE: u8 = b'R';
    pub const STRING: u8 = b'S';
    pub const BINSTRING: u8 = b'T';
    pub const SHORT_BINSTRING: u8 = b'U';
    pub const UNICODE: u8 = b'V';
    pub const BINUNICODE: u8 = b'X';
    pub const APPEND: u8 = b'a';
    pub const BUILD: u8 = b'b';
    pub const GLOBAL: u8 = b'c';
    pub const DICT: u8 = b'd';
    pub const EMPTY_DICT: u8 = b'}';
    pub const APPENDS: u8 = b'e';
    pub const GET: u8 = b'g';
    pub const BINGET: u8 = b'h';
    pub const LONG_BINGET: u8 = b'j';
    pub const LIST: u8 = b'l';
    pub const EMPTY_LIST: u8 = b']';
    pub const PUT: u8 = b'p';
    pub const BINPUT: u8 = b'q';
    pub const LONG_BINPUT: u8 = b'r';
    pub const SETITEM: u8 = b's';
    pub const TUPLE: u8 = b't';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const SETITEMS: u8 = b'u';
    pub const BINFLOAT: u8 = b'G';
    pub const PROTO: u8 = 0x80;
    pub const NEWOBJ: u8 = 0x81;
    pub const TUPLE1: u8 = 0x85;
    pub const TUPLE2: u8 = 0x86;
    pub const TUPLE3: u8 = 0x87;
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
    pub const LONG1: u8 = 0x8a;
    pub const LONG4: u8 = 0x8b;
    pub const BINBYTES: u8 = b'B';
    pub const SHORT_BINBYTES: u8 = b'C';
    pub const SHORT_BINUNICODE: u8 = 0x8c;
    pub const BINUNICODE8: u8 = 0x8d;
    pub const BINBYTES8: u8 = 0x8e;
    pub const STACK_GLOBAL: u8 = 0x93;
    pub const MEMOIZE: u8 = 0x94;
    pub const FRAME: u8 = 0x95;
    pub const BYTEARRAY8: u8 = 0x96;

    /// The name of an opcode this machine does not run (for the error).
    pub fn name(op: u8) -> &'static str {
        match op {
            b'i' => "INST",
            b'o' => "OBJ",
            0x82 => "EXT1",
            0x83 => "EXT2",
            0x84 => "EXT4",
            0x8f => "EMPTY_SET",
            0x90 => "ADDITEMS",
            0x91 => "FROZENSET",
            0x92 => "NEWOBJ_EX",
            0x97 => "NEXT_BUFFER",
            0x98 => "READONLY_BUFFER",
            _ => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Result<(Arena, Id), PickleError> {
        let mut arena = Arena::default();
        let mut input = Input::new(bytes, bytes.len() as u64);
        let root = Unpickler::new(&mut arena).load(&mut input)?;
        Ok((arena, root))
    }

    #[test]
    fn memo_shares_a_dict_filled_after_it_was_memoised() {
        // {} PUT 0, GET 0, SETITEM 'a' 1 on the copy, TUPLE2 -> both elements see 'a'
        let p = b"\x80\x02}q\x00h\x00X\x01\x00\x00\x00aK\x01s\x86.";
        let (arena, root) = run(p).unwrap();
        let Object::Tuple(items) = arena.get(root) else {
            panic!()
        };
        assert_eq!(items[0], items[1]);
        let Object::Dict(d) = arena.get(items[0]) else {
            panic!()
        };
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn globals_outside_the_allowed_set_are_refused_by_name() {
        let p = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85R.";
        let err = run(p).unwrap_err();
        assert_eq!(err.offset, 2);
        match err.fault {
            Fault::Global { module, name } => {
                assert_eq!((module.as_str(), name.as_str()), ("os", "system"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn long1_reads_two_complement_integers_of_any_width() {
        assert_eq!(long_from_bytes(vec![0xff]), Object::Int(-1));
        assert_eq!(long_from_bytes(vec![0x00, 0x80]), Object::Int(-32768));
        assert_eq!(long_from_bytes(vec![0x00, 0x80, 0x00]), Object::Int(32768));
        assert_eq!(long_from_bytes(vec![]), Object::Int(0));
        assert!(matches!(long_from_bytes(vec![1; 10]), Object::BigInt(_)));
    }

    #[test]
    fn truncated_streams_and_underflow_are_errors_not_panics() {
        for p in [
            &b"\x80\x02X\x05\x00\x00\x00ab"[..],
            b"\x80\x02s.",
            b"\x80\x02(t",
            b"R.",
        ] {
            assert!(run(p).is_err(), "{p:?}");
        }
    }
}
