//! Showing what a device operation does: progress bars, plain lines, JSON lines, requests.

use std::io::IsTerminal;

use clap::Args;
use dfuse::session::{Event, Phase, Unit};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::{Value, json};

// How device commands report; shared by every device command.
#[derive(Args, Debug, Clone, Copy)]
pub struct OutputArgs {
    /// Print JSON lines: one object per event, then one result object.
    #[arg(long)]
    pub json: bool,
    /// Show every request sent to the device (on standard error).
    #[arg(short, long)]
    pub verbose: bool,
    /// Print nothing but errors (and, with --json, the JSON lines).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// Turns session events into output.
pub struct Reporter {
    args: OutputArgs,
    terminal: bool,
    bar: Option<ProgressBar>,
    /// The phase under way: its total and how much is done.
    phase: Option<(Phase, u64, u64)>,
    /// One board of several: its label (in every line) and its own bar in the shared display.
    board: Option<Board>,
}

/// A board of several, as its reporter shows it.
struct Board {
    label: String,
    multi: MultiProgress,
    bar: ProgressBar,
}

impl Reporter {
    /// A reporter; progress bars only when standard output is a terminal.
    pub fn new(args: OutputArgs) -> Reporter {
        if args.verbose {
            crate::trace::show_requests();
        }
        Reporter {
            args,
            terminal: std::io::stdout().is_terminal() && !args.quiet,
            bar: None,
            phase: None,
            board: None,
        }
    }

    /// The reporter of one board of several: its lines carry `label`, and on a
    /// terminal its progress is one bar of `multi`, kept from phase to phase.
    pub fn for_board(args: OutputArgs, label: &str, multi: &MultiProgress) -> Reporter {
        let mut reporter = Reporter::new(args);
        let bar = multi.add(ProgressBar::new(0));
        bar.set_style(style("{prefix} waiting"));
        bar.set_prefix(format!("{label:<12}"));
        reporter.board = Some(Board {
            label: label.into(),
            multi: multi.clone(),
            bar,
        });
        reporter
    }

    /// A board of several is done: its bar shows `outcome`.
    pub fn finish(&self, outcome: &str) {
        if let Some(board) = &self.board {
            board.bar.set_style(style("{prefix} {msg}"));
            board.bar.finish_with_message(outcome.to_string());
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
                    let template = match (phase.unit(), &self.board) {
                        (Unit::Bytes, None) => {
                            "{prefix:>10} [{wide_bar}] {bytes}/{total_bytes} {bytes_per_sec} {eta:>3}"
                        }
                        (Unit::Bytes, Some(_)) => {
                            "{prefix} {msg:>10} [{wide_bar}] {percent:>3}% {eta:>3}"
                        }
                        (Unit::Steps, None) => "{prefix:>10} {spinner} {elapsed}",
                        (Unit::Steps, Some(_)) => "{prefix} {msg:>10} {spinner} {elapsed}",
                    };
                    // The style first: every later change draws the bar.
                    let bar = match &self.board {
                        Some(board) => {
                            board.bar.set_style(style(template));
                            board.bar.reset();
                            board.bar.set_length(*total);
                            board.bar.set_message(phase.name());
                            board.bar.clone()
                        }
                        None => {
                            let bar = ProgressBar::hidden();
                            bar.set_style(style(template));
                            bar.set_length(*total);
                            bar.set_prefix(phase.name());
                            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                            bar
                        }
                    };
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
                    if self.board.is_some() {
                        bar.disable_steady_tick();
                    } else {
                        bar.finish();
                        // indicatif leaves the cursor at the end of the finished bar.
                        eprintln!();
                    }
                }
                if self.args.json {
                    self.line(json!({"event": "end", "phase": phase.name()}));
                } else if !self.terminal
                    && !self.args.quiet
                    && let Some((phase, total, done)) = self.phase.take()
                {
                    let name = phase.name();
                    self.text(&match phase.unit() {
                        Unit::Bytes if done < total => {
                            format!("{name}: stopped after {done} of {total} bytes")
                        }
                        Unit::Bytes => format!("{name}: {total} bytes done"),
                        Unit::Steps => format!("{name}: done"),
                    });
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
            self.text(text);
        }
    }

    /// True with --json: lines are JSON objects, not text for people.
    pub fn json(&self) -> bool {
        self.args.json
    }

    /// A line for people; one of several boards says which it is, above the progress bars.
    pub(super) fn text(&self, text: &str) {
        if self.args.quiet {
            return;
        }
        match &self.board {
            Some(board) if self.terminal => {
                let _ = board.multi.println(format!("{}: {text}", board.label));
            }
            Some(board) => println!("{}: {text}", board.label),
            None => println!("{text}"),
        }
    }

    /// The final result: the one result object with --json.
    pub fn result(&self, value: Value) {
        if self.args.json {
            self.line(value);
        }
    }

    /// One JSON line; one of several boards names itself in it.
    pub(super) fn line(&self, mut value: Value) {
        if let (Some(board), Some(object)) = (&self.board, value.as_object_mut()) {
            object.insert("device".into(), board.label.clone().into());
        }
        crate::output::print_json(value);
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Bytes => "bytes",
        Unit::Steps => "steps",
    }
}

pub use dfuse::device::count;
