//! `file_outputs`: events appended to a file as JSON lines.
//!
//! Log rotation renames or removes the file; the next event then goes to
//! a new file at the configured path. Alertmanager watches the directory
//! for that; here each write compares the open file with what the path
//! names now (one `stat`), which needs no watcher thread and cannot miss
//! a rotation that happened while a watcher was being set up.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;

use super::Output;

pub struct FileOutput {
    path: String,
    name: String,
    file: File,
}

impl FileOutput {
    pub fn open(path: &str) -> Result<Self, String> {
        Ok(FileOutput {
            path: path.to_owned(),
            name: format!("file:{path}"),
            file: append(path)?,
        })
    }

    /// Whether `path` still names the open file.
    fn rotated(&self) -> bool {
        let Ok(open) = self.file.metadata() else {
            return true;
        };
        match std::fs::metadata(&self.path) {
            Ok(now) => now.dev() != open.dev() || now.ino() != open.ino(),
            Err(_) => true,
        }
    }
}

fn append(path: &str) -> Result<File, String> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("opening {path}: {e}"))
}

impl Output for FileOutput {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&mut self, json: &[u8]) -> Result<usize, String> {
        if self.rotated() {
            self.file = append(&self.path)?;
        }
        // One write per line, so concurrent readers never see half an event
        // followed by another.
        let mut line = Vec::with_capacity(json.len() + 1);
        line.extend_from_slice(json);
        line.push(b'\n');
        self.file
            .write_all(&line)
            .map(|()| line.len())
            .map_err(|e| format!("writing {}: {e}", self.path))
    }

    fn close(self: Box<Self>) {
        let _ = self.file.sync_data();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After logrotate's rename (or a removal), the next event starts a
    /// new file at the configured path.
    #[test]
    fn a_rotated_file_is_reopened_at_the_next_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let path_text = path.to_str().unwrap();
        let mut out = FileOutput::open(path_text).unwrap();
        assert_eq!(out.name(), format!("file:{path_text}"));
        assert_eq!(out.send(b"{\"n\":1}").unwrap(), 8);
        std::fs::rename(&path, dir.path().join("events.jsonl.1")).unwrap();
        out.send(b"{\"n\":2}").unwrap();
        std::fs::remove_file(&path).unwrap();
        out.send(b"{\"n\":3}").unwrap();
        Box::new(out).close();
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(read("events.jsonl.1"), "{\"n\":1}\n");
        assert_eq!(read("events.jsonl"), "{\"n\":3}\n");
    }
}
