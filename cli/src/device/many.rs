//! `dfuse flash` on several boards at once: a progress bar (or labelled lines)
//! per board while the library's threads work, then one table of results.

use std::io::IsTerminal;
use std::sync::{Mutex, MutexGuard};

use dfuse::Board;
use dfuse::device::{BoardEvent, BoardResult, FlashJob, flash_boards};
use indicatif::{MultiProgress, ProgressDrawTarget};
use serde_json::json;

use crate::output::print_json;

use super::flash::{report_json, report_plan};
use super::report::{OutputArgs, Reporter};
use crate::exit::CliError;

fn lock(reporter: &Mutex<Reporter>) -> MutexGuard<'_, Reporter> {
    reporter
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Flashes `job` onto every board of `boards` at once and reports each; fails
/// naming every board that failed.
pub fn flash(boards: &[Board], job: &FlashJob, output: OutputArgs) -> Result<(), CliError> {
    let bars = !output.json && std::io::stdout().is_terminal();
    let multi = MultiProgress::with_draw_target(if bars {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let locations: Vec<String> = boards.iter().map(|b| b.info().location.clone()).collect();
    Reporter::new(output).message(&format!(
        "Flashing {} boards at once: {}.",
        boards.len(),
        locations.join(", ")
    ));
    let reporters: Vec<Mutex<Reporter>> = locations
        .iter()
        .map(|location| Mutex::new(Reporter::for_board(output, location, &multi)))
        .collect();
    let results = flash_boards(boards, job, &super::interrupt::flag(), &|index, event| {
        let mut reporter = lock(&reporters[index]);
        match event {
            BoardEvent::Planned(plans) => {
                for target in plans {
                    report_plan(&reporter, target);
                }
            }
            BoardEvent::Session(event) => reporter.event(event),
            _ => {}
        }
    });
    for (reporter, board) in reporters.iter().zip(&results) {
        lock(reporter).finish(match &board.result {
            Ok(_) => "done",
            Err(_) => "FAILED",
        });
    }
    let _ = multi.clear();
    let board_results: Vec<_> = results.iter().map(board_json).collect();
    let all_ok = results.iter().all(|b| b.result.is_ok());
    if !output.json {
        if !output.quiet {
            print_table(&results);
        }
    } else if all_ok {
        print_json(json!({"result": "ok", "boards": board_results}));
    }
    let failed: Vec<_> = results
        .into_iter()
        .filter_map(|board| board.result.err().map(|error| (board.location, error)))
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        // With --json, the error result object carries every board's result.
        Err(CliError::Boards {
            failed,
            of: boards.len(),
            boards: board_results,
        })
    }
}

fn board_json(board: &BoardResult) -> serde_json::Value {
    let seconds = board.elapsed.as_secs_f64();
    match &board.result {
        Ok(report) => json!({"device": board.location, "result": "ok", "seconds": seconds,
            "targets": report_json(report)}),
        Err(error) => json!({"device": board.location, "result": "error", "seconds": seconds,
            "error": {"code": error.code(), "message": error.to_string()}}),
    }
}

/// Board, result and time, one line each.
fn print_table(results: &[BoardResult]) {
    let width = results
        .iter()
        .map(|b| b.location.len())
        .max()
        .unwrap_or(0)
        .max(5);
    println!("{:<width$}  {:>7}  Result", "Board", "Time");
    for board in results {
        let outcome = match &board.result {
            Ok(report) => {
                let targets: Vec<String> = report
                    .targets
                    .iter()
                    .map(|(target, flashed)| target.summary(*flashed))
                    .collect();
                format!("ok: {}", targets.join("; "))
            }
            Err(error) => format!("FAILED: error[{}]: {error}", error.code()),
        };
        println!(
            "{:<width$}  {:>6.1}s  {outcome}",
            board.location,
            board.elapsed.as_secs_f64()
        );
    }
}
