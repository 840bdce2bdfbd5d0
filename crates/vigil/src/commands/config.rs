use crate::cli::ConfigCommand;
use crate::config::Loaded;

pub fn run(command: ConfigCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Show(out) => crate::output::config(loaded, out.json),
    }
}
