use vigil_service::Service;

use crate::cli::AuditCommand;

pub async fn run(command: AuditCommand, service: &Service) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify(out) => {
            let result = service.verify_audit().await;
            crate::output::audit_verification(&result, out.json)?;
            result.map(|_| ()).map_err(Into::into)
        }
    }
}
