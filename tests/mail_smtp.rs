//! `SmtpMailer` against a real SMTP server (aiosmtpd on loopback): what arrives is what was sent.
//!
//! Needs `SHOWRUNNER_TEST_VENV` (see `scripts/provision-test-tools`); fails without it.

#[path = "support/smtp.rs"]
mod smtp;

use showrunner::{
    domain::Email,
    mail::{Mail, Mailer, SmtpMailer},
};
use smtp::SmtpServer;

const FROM: &str = "Showrunner <no-reply@showrunner.test>";

#[tokio::test]
async fn a_mail_sent_over_smtp_arrives_with_its_recipient_subject_and_body() {
    let server = SmtpServer::start().await;
    let mailer = SmtpMailer::new(&server.smtp_config(), FROM).unwrap();
    let link = "http://127.0.0.1:8080/reset?code=Zm9vYmFy&username=ann";

    mailer
        .send(Mail {
            to: Email::parse("ann@example.com").unwrap(),
            subject: "Reset your password".into(),
            text: format!("Hello ann,\n\nfollow {link} within one hour.\n"),
        })
        .await
        .unwrap();

    let mails = server.wait_for_mail(1).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.envelope_to, "ann@example.com");
    assert_eq!(mail.to, "ann@example.com");
    assert_eq!(mail.from, FROM);
    assert_eq!(mail.subject, "Reset your password");
    assert!(mail.text.contains(link), "{}", mail.text);
    assert!(
        mail.raw.contains("Content-Type: text/plain; charset=utf-8"),
        "{}",
        mail.raw
    );
    assert!(mail.raw.contains("Message-ID: <"), "{}", mail.raw);
}

#[tokio::test]
async fn non_ascii_subject_and_body_arrive_intact() {
    let server = SmtpServer::start().await;
    let mailer = SmtpMailer::new(&server.smtp_config(), FROM).unwrap();

    mailer
        .send(Mail {
            to: Email::parse("zoe@example.com").unwrap(),
            subject: "Bienvenue, Zoë — confirmez votre adresse ✉".into(),
            text: "Grüße aus Köln! 配信を始めましょう 🎥\nhttp://127.0.0.1:8080/verify?code=x\n"
                .into(),
        })
        .await
        .unwrap();

    let mail = server.wait_for_mail(1).await.remove(0);
    assert_eq!(mail.subject, "Bienvenue, Zoë — confirmez votre adresse ✉");
    assert_eq!(
        mail.text,
        "Grüße aus Köln! 配信を始めましょう 🎥\nhttp://127.0.0.1:8080/verify?code=x\n"
    );
}

#[tokio::test]
async fn one_mailer_sends_several_mails_over_its_pooled_connection() {
    let server = SmtpServer::start().await;
    let mailer = SmtpMailer::new(&server.smtp_config(), FROM).unwrap();

    for n in 1..=3 {
        mailer
            .send(Mail {
                to: Email::parse(&format!("viewer{n}@example.com")).unwrap(),
                subject: format!("Mail {n}"),
                text: format!("Body {n}"),
            })
            .await
            .unwrap();
    }

    let mut subjects: Vec<_> = server
        .wait_for_mail(3)
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    subjects.sort();
    assert_eq!(subjects, ["Mail 1", "Mail 2", "Mail 3"]);
}
