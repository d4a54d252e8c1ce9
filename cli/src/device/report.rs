//! Showing what a device operation does: progress bars, plain lines, JSON lines, requests.

use std::io::IsTerminal;

use clap::Args;
use dfuse::session::{Event, Phase, Unit};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

/// How device commands report; shared by every device command.
#[derive(Args, Debug, Clone, Copy)]
pub struct OutputArgs {
    /// Print JSON lines: one object per event, then one result object.
    #[arg(long)]
    pub json: bool,
    /// Show every request sent to the device (on standard error).
    #[arg(short, long)]
    pub verbose: bool,
}

/// Turns session events into output.
pub struct Reporter {
    args: OutputArgs,
    terminal: bool,
    bar: Option<ProgressBar>,
    /// The phase under way: its total and how much is done.
    phase: Option<(Phase, u64, u64)>,
}

impl Reporter {
    /// A reporter; progress bars only when standard output is a terminal.
    pub fn new(args: OutputArgs) -> Reporter {
        if args.verbose {
            crate::trace::show_requests();
        }
        Reporter {
            args,
            terminal: std::io::stdout().is_terminal(),
            bar: None,
            phase: None,
        }
    }

    /// Shows one session event.
    pub fn event(&mut self, event: &Event) {
        match event {
            Event::Begin { phase, total } => {
                self.phase = Some((*phase, *total, 0));
                if self.args.json {
                    self.line(
                        json!({"event": "begin", "phase": phase.name(), "total": total,
                        "unit": unit_name(phase.unit())}),
                    );
                } else if self.terminal {
                    let bar = ProgressBar::new(*total);
                    let template = match phase.unit() {
                        Unit::Bytes => {
                            "{prefix:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}"
                        }
                        Unit::Steps => "{prefix:>10} {spinner} {elapsed}",
                    };
                    let style = ProgressStyle::with_template(template)
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> ");
                    bar.set_style(style);
                    bar.set_prefix(phase.name());
                    if phase.unit() == Unit::Steps {
                        bar.enable_steady_tick(std::time::Duration::from_millis(100));
                    }
                    self.bar = Some(bar);
                }
            }
            Event::Progress { done, .. } => {
                if let Some((_, _, so_far)) = &mut self.phase {
                    *so_far = *done;
                }
                if self.args.json {
                    self.line(json!({"event": "progress", "done": done}));
                } else if let Some(bar) = &self.bar {
                    bar.set_position(*done);
                }
            }
            Event::End { phase } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish();
                }
                if self.args.json {
                    self.line(json!({"event": "end", "phase": phase.name()}));
                } else if !self.terminal
                    && let Some((phase, total, done)) = self.phase.take()
                {
                    match phase.unit() {
                        Unit::Bytes if done < total => {
                            println!("{}: stopped after {done} of {total} bytes", phase.name())
                        }
                        Unit::Bytes => println!("{}: {total} bytes done", phase.name()),
                        Unit::Steps => println!("{}: done", phase.name()),
                    }
                }
            }
            _ => {}
        }
    }

    /// A line of information for people (a JSON message object with --json).
    pub fn message(&self, text: &str) {
        if self.args.json {
            self.line(json!({"event": "message", "text": text}));
        } else {
            println!("{text}");
        }
    }

    /// The final result: the one result object with --json.
    pub fn result(&self, value: Value) {
        if self.args.json {
            self.line(value);
        }
    }

    fn line(&self, value: Value) {
        println!("{value}");
    }
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Bytes => "bytes",
        Unit::Steps => "steps",
    }
}

/// "1 sector", "2 sectors".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
