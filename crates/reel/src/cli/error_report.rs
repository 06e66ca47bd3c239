//! The one-line message for an error that ends a command.

/// The error and its chain of causes, `: `-separated, leaving out a cause
/// whose text the message already holds.
///
/// Many errors put their cause into their own message (`{path}: {source}`)
/// and also return it from `source()`; printing the chain as is
/// (anyhow's `{:#}`) would then say the same thing two or three times.
pub fn error_report(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[derive(Debug, thiserror::Error)]
    #[error("{path}: {source}")]
    struct WithPath {
        path: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let error = anyhow::Error::new(WithPath {
            path: "/x/y",
            source: io,
        });
        assert_eq!(format!("{error:#}"), "/x/y: no such file: no such file");
        assert_eq!(error_report(&error), "/x/y: no such file");
    }

    #[test]
    fn context_and_new_causes_are_all_kept_in_order() {
        let error = Err::<(), _>(std::io::Error::other("disk full"))
            .context("writing frame 3")
            .context("exporting")
            .unwrap_err();
        assert_eq!(
            error_report(&error),
            "exporting: writing frame 3: disk full"
        );
    }
}
