//! Just enough INF parsing to find the model entries: `[Manufacturer]`, `[Models.Decoration]`, `[Strings]`.

/// One model line: a device description, its install section and the IDs it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The models section it stands in, e.g. `Dfuse.NTamd64`.
    pub section: String,
    /// The description, with %strings% resolved.
    pub description: String,
    /// The install section.
    pub install: String,
    /// Its hardware ID, then any compatible IDs, as written.
    pub ids: Vec<String>,
}

/// A parsed INF: its model entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inf {
    /// Every model entry, in file order.
    pub entries: Vec<Entry>,
}

/// An INF that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InfError {
    /// No `[Manufacturer]` section, or it names no models section.
    #[error("the INF has no [Manufacturer] section naming a models section")]
    NoManufacturer,
    /// A models section the `[Manufacturer]` section names is missing.
    #[error("the INF's [Manufacturer] section names [{0}], which it lacks")]
    MissingModels(String),
}

/// `(section name, lines)` in file order; comments and blank lines dropped.
fn sections(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for raw in text.lines() {
        let line = strip_comment(raw).trim().to_string();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((name.trim().to_string(), Vec::new()));
        } else if let Some((_, lines)) = out.last_mut() {
            lines.push(line);
        }
    }
    out
}

/// The line without a `;` comment (a `;` inside double quotes is kept).
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

impl Inf {
    /// Parses the model entries of an INF file.
    pub fn parse(text: &str) -> Result<Inf, InfError> {
        let sections = sections(text);
        let find = |name: &str| {
            sections
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, l)| l)
        };
        let strings: Vec<(String, String)> = find("Strings")
            .map(|lines| {
                lines
                    .iter()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| {
                        (
                            k.trim().to_ascii_lowercase(),
                            v.trim().trim_matches('"').to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let resolve = |text: &str| {
            let key = text.trim().trim_matches('%').to_ascii_lowercase();
            strings
                .iter()
                .find(|(k, _)| *k == key)
                .map_or_else(|| text.trim().to_string(), |(_, v)| v.clone())
        };
        let manufacturer = find("Manufacturer").ok_or(InfError::NoManufacturer)?;
        let mut entries = Vec::new();
        for line in manufacturer {
            let Some((_, value)) = line.split_once('=') else {
                continue;
            };
            let list = split_list(value);
            let Some((base, decorations)) = list.split_first() else {
                continue;
            };
            let names: Vec<String> = if decorations.is_empty() {
                vec![base.clone()]
            } else {
                decorations.iter().map(|d| format!("{base}.{d}")).collect()
            };
            for name in names {
                let models = find(&name).ok_or_else(|| InfError::MissingModels(name.clone()))?;
                for model in models {
                    let Some((description, value)) = model.split_once('=') else {
                        continue;
                    };
                    let mut fields = split_list(value);
                    if fields.len() < 2 {
                        continue;
                    }
                    let install = fields.remove(0);
                    entries.push(Entry {
                        section: name.clone(),
                        description: resolve(description),
                        install,
                        ids: fields,
                    });
                }
            }
        }
        if entries.is_empty() && manufacturer.is_empty() {
            return Err(InfError::NoManufacturer);
        }
        Ok(Inf { entries })
    }
}
