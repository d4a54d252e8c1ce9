//! `dfuse dfu-util ARGS...`: the dfu-util command lines people have in their
//! scripts, translated into dfuse commands and run with dfuse's checks and
//! verify. The translation is printed first, so the script can be moved over.

use clap::Args;

use crate::exit::CliError;

// Arguments of `dfuse dfu-util`.
#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct DfuUtilArgs {
    /// dfu-util's arguments, as in a script: `-l`, `-d VID:PID`, `-p PATH`, `-S SERIAL`, `-a ALT`,
    /// `-s ADDR[:LEN][:leave][:mass-erase][:force][:unprotect]`, `-D FILE`, `-U FILE`, `-Z LEN`, `-R`, `-e`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

const AFTER_HELP: &str = "\
Each dfu-util command line becomes dfuse commands, printed before they run:
  dfuse dfu-util -l                                  -> dfuse list
  dfuse dfu-util -a 0 -s 0x08000000:leave -D fw.bin  -> dfuse flash fw.bin --alt 0 --address 0x08000000 --leave
  dfuse dfu-util -a 0 -s 0x08000000:16384 -U out.bin -> dfuse read -o out.bin --alt 0 --address 0x08000000 --length 16384
  dfuse dfu-util -a 0 -s 0x08000000:mass-erase:force -D fw.dfu -> dfuse flash fw.dfu --mass-erase --force
  dfuse dfu-util -e                                  -> dfuse leave
Options dfu-util has and dfuse does not need (-t, -w, -v, -c, -i, -n, -E) are
accepted and ignored, with a note; anything else is an error.";

/// What one dfu-util command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Request {
    list: bool,
    selection: Vec<String>,
    alt: Option<String>,
    address: Option<String>,
    length: Option<String>,
    leave: bool,
    mass_erase: bool,
    force: bool,
    unprotect: bool,
    download: Option<String>,
    upload: Option<String>,
    reset: bool,
    detach: bool,
    ignored: Vec<String>,
}

fn usage(message: String) -> CliError {
    CliError::Usage(format!("dfu-util arguments: {message}"))
}

/// Reads dfu-util's arguments (short and long forms, `-aVALUE` and `--alt=VALUE` too).
fn parse(args: &[String]) -> Result<Request, CliError> {
    let mut request = Request::default();
    let mut args = args.iter().peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ if arg.starts_with('-') && !arg.starts_with("--") && arg.len() > 2 => {
                (arg[..2].to_owned(), Some(arg[2..].to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, CliError> {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| usage(format!("{name} needs a value")))
        };
        match flag.as_str() {
            "-l" | "--list" => request.list = true,
            "-d" | "--device" => {
                let ids = value("-d")?;
                // dfu-util takes "vid:pid" or "vid:pid,vid:pid" (run-time, DFU mode): the DFU-mode IDs last.
                let last = ids.rsplit(',').next().unwrap_or(&ids).to_owned();
                request.selection.extend(["--vid-pid".into(), last]);
            }
            "-p" | "--path" => request.selection.extend(["--device".into(), value("-p")?]),
            "-S" | "--serial" => {
                let serial = value("-S")?;
                let last = serial.rsplit(',').next().unwrap_or(&serial).to_owned();
                request.selection.extend(["--serial".into(), last]);
            }
            "-a" | "--alt" => request.alt = Some(value("-a")?),
            "-s" | "--dfuse-address" => {
                let spec = value("-s")?;
                let mut parts = spec.split(':');
                let address = parts.next().unwrap_or_default();
                if !address.is_empty() {
                    request.address = Some(address.to_owned());
                }
                for part in parts {
                    match part {
                        "leave" => request.leave = true,
                        "mass-erase" => request.mass_erase = true,
                        "force" => request.force = true,
                        "unprotect" => request.unprotect = true,
                        "will-reset" => {}
                        "" => {}
                        length if length.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
                            request.length = Some(length.to_owned())
                        }
                        other => {
                            return Err(usage(format!(
                                "-s modifier {other:?} is not one of leave, mass-erase, force, unprotect, will-reset"
                            )));
                        }
                    }
                }
            }
            "-D" | "--download" => request.download = Some(value("-D")?),
            "-U" | "--upload" => request.upload = Some(value("-U")?),
            "-Z" | "--upload-size" => request.length = Some(value("-Z")?),
            "-R" | "--reset" => request.reset = true,
            "-e" | "--detach" => request.detach = true,
            "-t" | "--transfer-size" | "-c" | "--cfg" | "-i" | "--intf" | "-n" | "--devnum"
            | "-E" | "--detach-delay" => {
                let given = value(&flag)?;
                request.ignored.push(format!("{flag} {given}"));
            }
            "-w" | "--wait" | "-v" | "--verbose" => request.ignored.push(flag.clone()),
            other => {
                return Err(usage(format!(
                    "{other} is not a dfu-util option dfuse knows (see `dfuse dfu-util --help`)"
                )));
            }
        }
    }
    Ok(request)
}

/// The dfuse command lines (without the program name) that do what `request` asks.
fn translate(request: &Request) -> Result<Vec<Vec<String>>, CliError> {
    let words = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut commands = Vec::new();
    if request.list {
        commands.push(words(&["list"]));
    }
    let on_board = |mut command: Vec<String>| {
        command.extend(request.selection.iter().cloned());
        command
    };
    if request.unprotect {
        commands.push(on_board(words(&["unprotect", "--yes"])));
    }
    if let Some(file) = &request.download {
        let mut command = words(&["flash", file]);
        let is_dfu = file.to_ascii_lowercase().ends_with(".dfu");
        if let (Some(alt), false) = (&request.alt, is_dfu) {
            command.extend(["--alt".into(), alt.clone()]);
        }
        if let (Some(address), false) = (&request.address, is_dfu) {
            command.extend(["--address".into(), address.clone()]);
        }
        if request.mass_erase {
            command.push("--mass-erase".into());
        }
        if request.force {
            command.push("--force".into());
        }
        if request.leave || request.reset {
            command.push("--leave".into());
        }
        commands.push(on_board(command));
    }
    if let Some(file) = &request.upload {
        let address = request
            .address
            .as_ref()
            .ok_or_else(|| usage("-U needs the start address: -s ADDR:LEN".into()))?;
        let length = request.length.as_ref().ok_or_else(|| {
            usage("-U needs the length: -s ADDR:LEN (or -Z LEN); dfuse does not read until the device stops".into())
        })?;
        let mut command = words(&["read", "-o", file, "--address", address, "--length", length]);
        if let Some(alt) = &request.alt {
            command.extend(["--alt".into(), alt.clone()]);
        }
        commands.push(on_board(command));
    }
    let left = request.download.is_some() && (request.leave || request.reset);
    if (request.detach || request.reset || (request.leave && request.download.is_none())) && !left {
        let mut command = words(&["leave"]);
        if let (Some(address), None) = (&request.address, &request.download) {
            command.extend(["--address".into(), address.clone()]);
        }
        commands.push(on_board(command));
    }
    if request.mass_erase && request.download.is_none() {
        let mut command = words(&["erase", "--all"]);
        if let Some(alt) = &request.alt {
            command.extend(["--alt".into(), alt.clone()]);
        }
        commands.insert(0, on_board(command));
    }
    if commands.is_empty() {
        return Err(usage(
            "nothing to do: give -l, -D FILE, -U FILE, -e or -R (see `dfuse dfu-util --help`)"
                .into(),
        ));
    }
    Ok(commands)
}

/// The dfuse command lines for dfu-util's `args`, each with "dfuse" first; notes on ignored options.
pub fn commands(args: &[String]) -> Result<(Vec<Vec<String>>, Vec<String>), CliError> {
    let request = parse(args)?;
    let commands = translate(&request)?
        .into_iter()
        .map(|command| {
            std::iter::once("dfuse".to_string())
                .chain(command)
                .collect()
        })
        .collect();
    Ok((commands, request.ignored))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dfuse(line: &str) -> Vec<String> {
        let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        commands(&args)
            .unwrap()
            .0
            .iter()
            .map(|c| c.join(" "))
            .collect()
    }

    #[test]
    fn the_usual_dfu_util_lines_become_dfuse_commands() {
        assert_eq!(dfuse("-l"), ["dfuse list"]);
        assert_eq!(
            dfuse("-a 0 -s 0x08000000:leave -D fw.bin"),
            ["dfuse flash fw.bin --alt 0 --address 0x08000000 --leave"]
        );
        assert_eq!(
            dfuse("-d 0483:df11 -a0 -s 0x08000000:16384 -U out.bin"),
            [
                "dfuse read -o out.bin --address 0x08000000 --length 16384 --alt 0 --vid-pid 0483:df11"
            ]
        );
        assert_eq!(
            dfuse("-a 0 -s 0x08000000:mass-erase:force -D fw.dfu"),
            ["dfuse flash fw.dfu --mass-erase --force"]
        );
        assert_eq!(dfuse("-e"), ["dfuse leave"]);
        assert_eq!(dfuse("-p 1-2 -R"), ["dfuse leave --device 1-2"]);
        assert_eq!(
            dfuse("-a 0 -s 0x08000000:mass-erase"),
            ["dfuse erase --all --alt 0"]
        );
        assert_eq!(
            dfuse("--alt=1 --dfuse-address=0x1FFFC000:16 --upload=ob.bin"),
            ["dfuse read -o ob.bin --address 0x1FFFC000 --length 16 --alt 1"]
        );
    }

    #[test]
    fn what_dfuse_cannot_do_is_refused_with_what_to_write() {
        let refused = |line: &str| {
            let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
            commands(&args).unwrap_err().message()
        };
        assert!(refused("-U out.bin -s 0x08000000").contains("-s ADDR:LEN"));
        assert!(refused("-a 0").contains("nothing to do"));
        assert!(refused("-X").contains("not a dfu-util option"));
        assert!(refused("-s 0x08000000:bogus -D x.bin").contains("bogus"));
        let (_, ignored) = commands(&["-l".into(), "-t".into(), "2048".into()]).unwrap();
        assert_eq!(ignored, ["-t 2048"]);
    }
}
