//! Certificate files the user supplies (`[policy] certificates_from = "DIR"`).
//!
//! The API never returns certificate data, so a certificate missing on a destination can
//! only be created from a file. [`list`] tells the planner which certificate names have a
//! file in the directory (data, no I/O in the planner); the applier calls [`read`] when it
//! writes, so plans never hold certificate data or passwords. A file is found by its
//! name without the extension, compared like every name (trimmed, case-insensitive):
//! `DIR/<certificate name>.pfx` (or `.p12`) for PKCS #12, `.pem`, `.crt` or `.cer` for
//! PEM or DER. A PFX password comes from the environment variable that
//! `certificates_password_env` names, never from a file or the config itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use octopus_model::name_key;
use sync_core::CertificateFile;

/// The extensions of certificate files, lower case.
pub const EXTENSIONS: &[&str] = &["pfx", "p12", "pem", "crt", "cer"];

/// Why certificate files cannot be listed or read. Each names the file (or directory)
/// and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The directory could not be listed.
    #[error("cannot list the certificates_from directory {path}")]
    List {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Two files stand for one certificate name.
    #[error(
        "certificates_from has two files for certificate {name:?}: {first} and {second}; keep one"
    )]
    Ambiguous {
        /// The certificate name.
        name: String,
        /// One file.
        first: String,
        /// The other.
        second: String,
    },
    /// The plan creates a certificate from a file, but no directory is configured.
    #[error("the plan creates a certificate from {file}, but no certificates_from directory is configured")]
    NoDirectory {
        /// The file the plan names.
        file: String,
    },
    /// The file could not be read.
    #[error("cannot read certificate file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file's content is not a certificate in the form its extension says.
    #[error("certificate file {path} {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: &'static str,
    },
    /// The password variable the config names is not set.
    #[error("certificate file {path} is PKCS #12 and certificates_password_env names {variable}, which is not set")]
    MissingPassword {
        /// The file.
        path: PathBuf,
        /// The variable.
        variable: String,
    },
}

/// The certificate files in `dir`, keyed by [`name_key`] of the certificate name (the
/// file name without its extension), valued by the file name: what
/// [`sync_core::SyncRules::certificate_files`] holds. Other files are ignored.
pub fn list(dir: &Path) -> Result<BTreeMap<String, String>, CertificateError> {
    let entries = std::fs::read_dir(dir).map_err(|source| CertificateError::List {
        path: dir.to_owned(),
        source,
    })?;
    let mut files = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CertificateError::List {
            path: dir.to_owned(),
            source,
        })?;
        if !entry.path().is_file() {
            continue;
        }
        let Some(file) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        names.push(file);
    }
    names.sort();
    for file in names {
        let Some((stem, ext)) = file.rsplit_once('.') else {
            continue;
        };
        if !EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) || stem.trim().is_empty() {
            continue;
        }
        let key = name_key(stem);
        if let Some(first) = files.get(&key) {
            return Err(CertificateError::Ambiguous {
                name: stem.to_owned(),
                first: String::clone(first),
                second: file,
            });
        }
        files.insert(key, file);
    }
    Ok(files)
}

/// What a certificate create sends: the file's bytes, base64-encoded, and the PFX
/// password. Secret: never logged or displayed.
pub struct CertificateData {
    /// `CertificateData`: the file's bytes in base64.
    pub data: String,
    /// `Password`, for a PKCS #12 file whose password variable is named.
    pub password: Option<String>,
}

impl std::fmt::Debug for CertificateData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CertificateData(<secret>)")
    }
}

/// Reads the file a plan names from `dir`, checks that it looks like what its extension
/// says (PKCS #12 and DER are ASN.1 sequences; PEM text has a `-----BEGIN` block), and
/// reads a PFX file's password from the environment variable `password_env`.
pub fn read(
    dir: Option<&Path>,
    file: &CertificateFile,
    password_env: Option<&str>,
) -> Result<CertificateData, CertificateError> {
    let Some(dir) = dir else {
        return Err(CertificateError::NoDirectory {
            file: file.file.clone(),
        });
    };
    // The plan names a file by its name alone: never a path that leaves the directory.
    if file.file.contains(['/', '\\']) || file.file.starts_with("..") {
        return Err(CertificateError::Invalid {
            path: dir.join(&file.file),
            problem: "is not a plain file name in the certificates_from directory",
        });
    }
    let path = dir.join(&file.file);
    let bytes = std::fs::read(&path).map_err(|source| CertificateError::Read {
        path: path.clone(),
        source,
    })?;
    if bytes.is_empty() {
        return Err(CertificateError::Invalid {
            path,
            problem: "is empty",
        });
    }
    let der = bytes[0] == 0x30;
    let pem = std::str::from_utf8(&bytes).is_ok_and(|t| t.contains("-----BEGIN "));
    let ext = file
        .file
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pfx" | "p12" if !der => {
            return Err(CertificateError::Invalid {
                path,
                problem: "is not a PKCS #12 (PFX) file: it does not start with an ASN.1 sequence",
            })
        }
        "pem" if !pem => {
            return Err(CertificateError::Invalid {
                path,
                problem: "is not PEM: it has no -----BEGIN block",
            })
        }
        "crt" | "cer" if !pem && !der => {
            return Err(CertificateError::Invalid {
                path,
                problem: "is neither PEM (no -----BEGIN block) nor DER (no ASN.1 sequence)",
            })
        }
        _ => {}
    }
    let password = match (file.pkcs12, password_env) {
        (true, Some(variable)) => match std::env::var(variable) {
            Ok(p) => Some(p),
            Err(_) => {
                return Err(CertificateError::MissingPassword {
                    path,
                    variable: variable.to_owned(),
                })
            }
        },
        _ => None,
    };
    Ok(CertificateData {
        data: base64::engine::general_purpose::STANDARD.encode(&bytes),
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_file(name: &str) -> CertificateFile {
        CertificateFile {
            file: name.to_owned(),
            pkcs12: sync_core::is_pkcs12_file(name),
        }
    }

    #[test]
    fn files_are_listed_by_certificate_name_and_other_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Web Site.PFX"), [0x30, 1]).unwrap();
        std::fs::write(dir.path().join("api.pem"), "-----BEGIN CERTIFICATE-----").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        let files = list(dir.path()).unwrap();
        assert_eq!(files.get(&name_key("web site")).unwrap(), "Web Site.PFX");
        assert_eq!(files.get(&name_key("API")).unwrap(), "api.pem");
        assert_eq!(files.len(), 2);
    }

    #[test]
    fn two_files_for_one_certificate_are_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("web.pfx"), [0x30]).unwrap();
        std::fs::write(dir.path().join("Web.pem"), "-----BEGIN X-----").unwrap();
        let err = list(dir.path()).unwrap_err().to_string();
        assert!(err.contains("Web.pem") && err.contains("web.pfx"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_what_its_extension_says_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("web.pem"), "not a certificate").unwrap();
        std::fs::write(dir.path().join("api.pfx"), "-----BEGIN CERTIFICATE-----").unwrap();
        std::fs::write(dir.path().join("empty.crt"), "").unwrap();
        for (file, problem) in [
            ("web.pem", "is not PEM"),
            ("api.pfx", "is not a PKCS #12"),
            ("empty.crt", "is empty"),
        ] {
            let err = read(Some(dir.path()), &plan_file(file), None)
                .unwrap_err()
                .to_string();
            assert!(err.contains(file) && err.contains(problem), "{err}");
        }
        let missing = read(Some(dir.path()), &plan_file("gone.pem"), None)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("gone.pem"), "{missing}");
        let outside = read(Some(dir.path()), &plan_file("../web.pem"), None)
            .unwrap_err()
            .to_string();
        assert!(outside.contains("not a plain file name"), "{outside}");
    }

    #[test]
    fn a_pfx_password_comes_from_the_named_environment_variable() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("web.pfx"), [0x30, 0x82]).unwrap();
        let variable = "OCTOSYNC_TEST_PFX_PASSWORD_UNSET_8F2";
        let err = read(Some(dir.path()), &plan_file("web.pfx"), Some(variable))
            .unwrap_err()
            .to_string();
        assert!(err.contains(variable) && err.contains("web.pfx"), "{err}");
        let data = read(Some(dir.path()), &plan_file("web.pfx"), None).unwrap();
        assert_eq!(data.data, "MII=");
        assert!(data.password.is_none());
        assert_eq!(format!("{data:?}"), "CertificateData(<secret>)");
    }
}
