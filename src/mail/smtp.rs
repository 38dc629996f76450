use std::{sync::OnceLock, time::Duration};

use async_trait::async_trait;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
    message::Mailbox,
    transport::smtp::{AsyncSmtpTransportBuilder, authentication::Credentials},
};

use super::{Mail, MailError, Mailer, build_message, parse_mailbox};
use crate::config::{SmtpConfig, SmtpSecurity};

/// Per SMTP command. lettre's default is 60 s; a request waiting on mail should fail sooner.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends mail through an SMTP relay, reusing pooled connections.
pub struct SmtpMailer {
    from: Mailbox,
    builder: AsyncSmtpTransportBuilder,
    /// Built on first send: the connection pool spawns a task, which needs a running Tokio
    /// runtime, and `new` may be called before there is one.
    transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
}

impl SmtpMailer {
    /// Checks the configuration (addresses, TLS parameters) without connecting.
    pub fn new(smtp: &SmtpConfig, from: &str) -> Result<Self, MailError> {
        let from = parse_mailbox(from)?;
        let builder = match smtp.security {
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            }
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                    .map_err(|e| MailError::Transport(e.to_string()))?
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| MailError::Transport(e.to_string()))?,
        };
        let mut builder = builder.port(smtp.port).timeout(Some(SMTP_TIMEOUT));
        if !smtp.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                smtp.username.clone(),
                smtp.password.clone(),
            ));
        }
        Ok(Self {
            from,
            builder,
            transport: OnceLock::new(),
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let message = build_message(&self.from, &mail)?;
        let transport = self.transport.get_or_init(|| self.builder.clone().build());
        transport
            .send(message)
            .await
            .map_err(|e| MailError::Transport(e.to_string()))?;
        tracing::debug!(to = %mail.to, subject = %mail.subject, "mail handed to SMTP relay");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Email;

    fn smtp_on(port: u16) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            username: String::new(),
            password: String::new(),
            security: SmtpSecurity::None,
        }
    }

    #[test]
    fn can_be_built_before_any_runtime_exists() {
        for security in [
            SmtpSecurity::None,
            SmtpSecurity::Starttls,
            SmtpSecurity::Tls,
        ] {
            let smtp = SmtpConfig {
                host: "smtp.example.com".into(),
                username: "mailer".into(),
                password: "secret".into(),
                security,
                ..smtp_on(587)
            };
            assert!(SmtpMailer::new(&smtp, "Showrunner <no-reply@example.com>").is_ok());
        }
    }

    #[test]
    fn a_from_address_that_is_not_a_mailbox_is_refused() {
        let result = SmtpMailer::new(&smtp_on(25), "no-reply at example.com");
        assert!(matches!(result, Err(MailError::Address(_))));
    }

    #[tokio::test]
    async fn an_unreachable_relay_is_a_transport_error() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let mailer = SmtpMailer::new(&smtp_on(port), "no-reply@example.com").unwrap();

        let result = mailer
            .send(Mail {
                to: Email::parse("ann@example.com").unwrap(),
                subject: "Hi".into(),
                text: "Hello".into(),
            })
            .await;

        assert!(matches!(result, Err(MailError::Transport(_))), "{result:?}");
    }
}
