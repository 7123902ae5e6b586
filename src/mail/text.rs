//! The words of the follower mails, in Bahasa Indonesia and English: plain text, every mail with
//! the tracking link and the unsubscribe link. Pure: the sender fills in the links.

use crate::domain::ProposalStatus;
use crate::error::Lang;
use crate::store::follow::{Due, MailKind, UNCONFIRMED_DAYS};

/// The links a mail carries (absolute URLs).
#[derive(Debug, Clone)]
pub struct Links {
    /// The map's tracking view of the proposal.
    pub tracking: String,
    /// The tracking view of the proposal this one was merged into.
    pub merged_into: Option<String>,
    /// Only in a confirmation mail.
    pub confirm: Option<String>,
    pub unsubscribe: String,
}

/// A subject and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

/// The follower's language ("id" unless they chose "en").
pub fn lang_of(tag: &str) -> Lang {
    if tag == "en" {
        Lang::En
    } else {
        Lang::Id
    }
}

/// A status as residents read it (the map's labels).
pub fn status_label(lang: Lang, status: &str) -> String {
    let Some(s) = ProposalStatus::parse(status) else {
        return status.to_owned();
    };
    use ProposalStatus::*;
    let (id, en) = match s {
        Diajukan => ("Diajukan", "Submitted"),
        Diverifikasi => ("Diverifikasi", "Verified"),
        Ditolak => ("Ditolak", "Rejected"),
        Digabung => ("Digabung", "Merged"),
        Diprioritaskan => ("Diprioritaskan", "Prioritised"),
        Dianggarkan => ("Dianggarkan", "Budgeted"),
        Dikerjakan => ("Dikerjakan", "In progress"),
        Selesai => ("Selesai", "Done"),
    };
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
    .to_owned()
}

/// The mail for a claimed outbox row.
pub fn compose(due: &Due, links: &Links) -> Mail {
    let lang = lang_of(&due.lang);
    match due.kind {
        MailKind::Confirm => confirm_mail(lang, due, links),
        MailKind::Status => status_mail(lang, due, links),
    }
}

fn confirm_mail(lang: Lang, due: &Due, links: &Links) -> Mail {
    let code = &due.tracking_code;
    let confirm = links.confirm.as_deref().unwrap_or_default();
    match lang {
        Lang::Id => Mail {
            subject: format!("[SIGAP] Konfirmasi: ikuti usulan {code}"),
            body: format!(
                "Halo,\n\n\
                 Seseorang (semoga Anda) meminta kabar lewat email tentang usulan warga ini:\n\n\
                 Usulan: {title}\n\
                 Kode lacak: {code}\n\n\
                 Buka tautan ini untuk mengonfirmasi, lalu Anda akan menerima satu email setiap \
                 kali statusnya berubah:\n\
                 {confirm}\n\n\
                 Jika Anda tidak memintanya, abaikan email ini: alamat Anda dihapus dengan \
                 sendirinya setelah {days} hari dan tidak akan menerima email lain.\n\n\
                 Lihat usulan: {tracking}\n\
                 Jangan kirimi saya email lagi: {unsubscribe}\n\n\
                 -- \nSIGAP Kota Bandung\n",
                title = due.title,
                days = UNCONFIRMED_DAYS,
                tracking = links.tracking,
                unsubscribe = links.unsubscribe,
            ),
        },
        Lang::En => Mail {
            subject: format!("[SIGAP] Confirm: follow proposal {code}"),
            body: format!(
                "Hello,\n\n\
                 Someone (we hope you) asked for email updates on this residents' proposal:\n\n\
                 Proposal: {title}\n\
                 Tracking code: {code}\n\n\
                 Open this link to confirm; you will then get one email each time its status \
                 changes:\n\
                 {confirm}\n\n\
                 If you did not ask for this, ignore this email: your address is deleted by \
                 itself after {days} days and gets no other email.\n\n\
                 See the proposal: {tracking}\n\
                 Do not email me again: {unsubscribe}\n\n\
                 -- \nSIGAP Kota Bandung\n",
                title = due.title,
                days = UNCONFIRMED_DAYS,
                tracking = links.tracking,
                unsubscribe = links.unsubscribe,
            ),
        },
    }
}

fn status_mail(lang: Lang, due: &Due, links: &Links) -> Mail {
    let code = &due.tracking_code;
    let to = due.to_status.as_deref().unwrap_or_default();
    let to_label = status_label(lang, to);
    let change = match due.from_status.as_deref() {
        Some(from) if from != to => format!("{} → {}", status_label(lang, from), to_label),
        _ => to_label.clone(),
    };
    let carried_over = due.from_status.as_deref() == Some(to);
    // In Bandung's time (WIB, UTC+7): a mail held in the outbox may arrive later than the change.
    let when = due
        .event_at
        .zip(chrono::FixedOffset::east_opt(7 * 3600))
        .map(|(at, wib)| format!("{} WIB", at.with_timezone(&wib).format("%d-%m-%Y %H:%M")))
        .unwrap_or_default();
    let mut extra = Vec::new();
    if let Some(note) = due.note.as_deref().filter(|n| !n.trim().is_empty()) {
        extra.push(match lang {
            Lang::Id => format!("Catatan: {note}"),
            Lang::En => format!("Note: {note}"),
        });
    }
    if carried_over {
        extra.push(match lang {
            Lang::Id => format!(
                "Usulan ini belum didanai pada siklus ini dan dibawa ke siklus {}.",
                due.cycle_year
            ),
            Lang::En => format!(
                "This proposal was not funded in this cycle and moves on to the {} cycle.",
                due.cycle_year
            ),
        });
    }
    if let (Some(target), Some(link)) = (&due.merged_into_code, &links.merged_into) {
        extra.push(match lang {
            Lang::Id => format!(
                "Usulan ini digabung dengan usulan {target} yang meminta hal yang sama; \
                 ikuti kelanjutannya di sana: {link}"
            ),
            Lang::En => format!(
                "This proposal was merged into proposal {target}, which asks for the same; \
                 follow it there: {link}"
            ),
        });
    }
    if due.is_final() {
        extra.push(match lang {
            Lang::Id => "Ini email terakhir tentang usulan ini: alamat email Anda kini dihapus \
                         dari SIGAP."
                .to_owned(),
            Lang::En => "This is the last email about this proposal: your address is now \
                         deleted from SIGAP."
                .to_owned(),
        });
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!("{}\n\n", extra.join("\n\n"))
    };
    match lang {
        Lang::Id => Mail {
            subject: format!("[SIGAP] Usulan {code}: {to_label}"),
            body: format!(
                "Halo,\n\n\
                 Status usulan yang Anda ikuti berubah.\n\n\
                 Usulan: {title}\n\
                 Kode lacak: {code}\n\
                 Status: {change}\n\
                 Waktu: {when}\n\n\
                 {extra}\
                 Lihat perkembangannya: {tracking}\n\n\
                 Berhenti mengikuti usulan ini: {unsubscribe}\n\n\
                 -- \nSIGAP Kota Bandung\n\
                 Anda menerima email ini karena meminta dan mengonfirmasi kabar tentang usulan \
                 {code}.\n",
                title = due.title,
                tracking = links.tracking,
                unsubscribe = links.unsubscribe,
            ),
        },
        Lang::En => Mail {
            subject: format!("[SIGAP] Proposal {code}: {to_label}"),
            body: format!(
                "Hello,\n\n\
                 The status of a proposal you follow has changed.\n\n\
                 Proposal: {title}\n\
                 Tracking code: {code}\n\
                 Status: {change}\n\
                 When: {when}\n\n\
                 {extra}\
                 See how it goes: {tracking}\n\n\
                 Stop following this proposal: {unsubscribe}\n\n\
                 -- \nSIGAP Kota Bandung\n\
                 You get this email because you asked for, and confirmed, updates on proposal \
                 {code}.\n",
                title = due.title,
                tracking = links.tracking,
                unsubscribe = links.unsubscribe,
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(kind: MailKind, lang: &str, from: Option<&str>, to: Option<&str>) -> Due {
        Due {
            outbox_id: 1,
            kind,
            attempts: 0,
            follower_id: 1,
            email: "warga@example.org".into(),
            lang: lang.into(),
            tracking_code: "ABCD2345".into(),
            title: "Lampu jalan mati".into(),
            from_status: from.map(Into::into),
            to_status: to.map(Into::into),
            note: None,
            event_at: "2026-11-29T07:05:00Z".parse().ok(),
            cycle_year: 2027,
            merged_into_code: None,
        }
    }

    fn links() -> Links {
        Links {
            tracking: "https://sigap.example/#usulan/ABCD2345".into(),
            merged_into: None,
            confirm: Some("https://sigap.example/api/follow/confirm?token=C".into()),
            unsubscribe: "https://sigap.example/api/follow/unsubscribe?token=U".into(),
        }
    }

    #[test]
    fn every_mail_has_the_tracking_and_unsubscribe_links() {
        for lang in ["id", "en"] {
            for d in [
                due(MailKind::Confirm, lang, None, None),
                due(
                    MailKind::Status,
                    lang,
                    Some("diajukan"),
                    Some("diverifikasi"),
                ),
                due(MailKind::Status, lang, Some("dikerjakan"), Some("selesai")),
            ] {
                let m = compose(&d, &links());
                assert!(m.body.contains(&links().tracking), "{lang}: {}", m.body);
                assert!(m.body.contains(&links().unsubscribe), "{lang}: {}", m.body);
                assert!(m.subject.contains("ABCD2345"));
            }
        }
    }

    #[test]
    fn language_and_content_follow_the_event() {
        let m = compose(
            &due(
                MailKind::Status,
                "id",
                Some("diajukan"),
                Some("diverifikasi"),
            ),
            &links(),
        );
        assert!(m.body.contains("Diajukan → Diverifikasi"), "{}", m.body);
        assert!(m.body.contains("Waktu: 29-11-2026 14:05 WIB"), "{}", m.body);
        assert!(!m.body.contains("terakhir"));
        let m = compose(
            &due(MailKind::Status, "en", Some("dikerjakan"), Some("selesai")),
            &links(),
        );
        assert!(m.body.contains("In progress → Done"), "{}", m.body);
        assert!(m.body.contains("last email"));
        let m = compose(
            &due(
                MailKind::Status,
                "id",
                Some("diverifikasi"),
                Some("diverifikasi"),
            ),
            &links(),
        );
        assert!(m.body.contains("siklus 2027"), "{}", m.body);
        let mut merged = due(MailKind::Status, "id", Some("diajukan"), Some("digabung"));
        merged.merged_into_code = Some("WXYZ6789".into());
        let mut l = links();
        l.merged_into = Some("https://sigap.example/#usulan/WXYZ6789".into());
        let m = compose(&merged, &l);
        assert!(
            m.body.contains("digabung dengan usulan WXYZ6789"),
            "{}",
            m.body
        );
        assert!(m.body.contains("#usulan/WXYZ6789"));
        assert!(
            m.body.contains("email terakhir"),
            "merged is final: {}",
            m.body
        );
        let mut noted = due(MailKind::Status, "en", Some("diajukan"), Some("ditolak"));
        noted.note = Some("Outside the city's duty".into());
        assert!(compose(&noted, &links())
            .body
            .contains("Note: Outside the city's duty"));
        let m = compose(&due(MailKind::Confirm, "en", None, None), &links());
        assert!(m.body.contains("confirm?token=C"));
        assert!(m.body.contains("7 days"));
    }
}
