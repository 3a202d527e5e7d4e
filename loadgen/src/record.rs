//! Benchmark records: one JSON object per run, appended to an NDJSON file in `results/`,
//! with the parameters, the machine, the git revision and the figures.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::Error;

/// The machine a run was measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Hardware {
    /// `model name` of /proc/cpuinfo.
    pub cpu_model: String,
    /// Online cores.
    pub cores: usize,
    /// Total memory in GiB.
    pub memory_gib: f64,
    /// Kernel release.
    pub kernel: String,
}

impl Hardware {
    /// Reads this machine's description.
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|line| {
                line.strip_prefix("model name")
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("MemTotal:"))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0);
        Self {
            cpu_model,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: (memory_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
        }
    }
}

/// The git revision of the checkout this binary was built from, with `-dirty` when it
/// has uncommitted changes outside `results/`.
pub fn git_rev() -> String {
    let repo = env!("CARGO_MANIFEST_DIR");
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let Some(rev) = run(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown".into();
    };
    // Records appended to results/ by earlier runs do not make the code dirty.
    let status = [
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ":(top)",
        ":(top,exclude)results",
    ];
    match run(&status) {
        Some(changes) if !changes.is_empty() => format!("{rev}-dirty"),
        _ => rev,
    }
}

/// One line of a results file.
#[derive(Debug, Serialize)]
pub struct Record<'a, P: Serialize, F: Serialize> {
    /// Which instrument wrote it: `loadgen`, `benchmark`, `sweep`.
    pub kind: &'a str,
    /// Unix time of the run, seconds.
    pub unix_time: u64,
    /// Git revision (see [`git_rev`]).
    pub git_rev: String,
    /// The machine.
    pub hardware: Hardware,
    /// Parameters.
    pub params: P,
    /// Figures.
    pub figures: F,
}

impl<'a, P: Serialize, F: Serialize> Record<'a, P, F> {
    /// A record of a run that ends now.
    pub fn new(kind: &'a str, params: P, figures: F) -> Self {
        Self {
            kind,
            unix_time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            git_rev: git_rev(),
            hardware: Hardware::detect(),
            params,
            figures,
        }
    }

    /// Appends the record as one JSON line to `path`.
    pub fn append_to(&self, path: &Path) -> Result<(), Error> {
        let failed = |source| Error::Record {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        let mut line = serde_json::to_vec(self).map_err(|e| failed(std::io::Error::other(e)))?;
        line.push(b'\n');
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| file.write_all(&line))
            .map_err(failed)
    }
}

/// `results/` of the workspace this binary was built in, if it exists; else `./results`.
pub fn results_dir() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results");
    built
        .canonicalize()
        .ok()
        .filter(|dir| dir.is_dir())
        .unwrap_or_else(|| PathBuf::from("results"))
}
