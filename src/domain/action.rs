//! Stream actions: the overlays a streamer puts over their stream (a quiz, a product, a notice,
//! confetti, a poll). A channel has at most one active action; a new one replaces it.
//!
//! The reference checked these limits only in the browser. Here the server parses every action
//! with [`ActionInput::parse`], which reports every bad field at once, and everything past the
//! edge holds a [`StreamAction`], which is valid by construction.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{FieldError, FieldErrors};

/// An action as a client sends it, not yet checked. `type` picks the variant; unknown types and
/// unknown fields are refused by the deserializer.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionInput {
    Quiz {
        question: String,
        answers: Vec<String>,
        correct_index: usize,
        duration_secs: u32,
    },
    Product {
        title: String,
        price: String,
        image_url: String,
        description: String,
    },
    AmazonProduct {
        title: String,
        price: String,
        image_url: String,
        product_url: String,
    },
    Notice {
        title: String,
        message: String,
        duration_secs: u32,
    },
    Celebration {},
    Poll {
        question: String,
        options: Vec<String>,
        duration_secs: u32,
    },
}

impl ActionInput {
    /// Checks every field against its limits and trims the text; on failure, every broken rule
    /// is reported, each under the field name the client used (`answers.2` for list entries).
    pub fn parse(self) -> Result<StreamAction, FieldErrors> {
        Ok(match self {
            ActionInput::Quiz {
                question,
                answers,
                correct_index,
                duration_secs,
            } => StreamAction::Quiz(Quiz::parse(
                &question,
                &answers,
                correct_index,
                duration_secs,
            )?),
            ActionInput::Product {
                title,
                price,
                image_url,
                description,
            } => StreamAction::Product(Product::parse(&title, &price, &image_url, &description)?),
            ActionInput::AmazonProduct {
                title,
                price,
                image_url,
                product_url,
            } => StreamAction::AmazonProduct(AmazonProduct::parse(
                &title,
                &price,
                &image_url,
                &product_url,
            )?),
            ActionInput::Notice {
                title,
                message,
                duration_secs,
            } => StreamAction::Notice(Notice::parse(&title, &message, duration_secs)?),
            ActionInput::Celebration {} => StreamAction::Celebration(Celebration {}),
            ActionInput::Poll {
                question,
                options,
                duration_secs,
            } => StreamAction::Poll(PollSpec::parse(&question, &options, duration_secs)?),
        })
    }
}

/// A checked action. Serialised for clients in the same tagged shape as [`ActionInput`]
/// (`{"type": "quiz", ...}`); deserialised only from our own snapshots, which were checked
/// when they were made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamAction {
    Quiz(Quiz),
    Product(Product),
    AmazonProduct(AmazonProduct),
    Notice(Notice),
    Celebration(Celebration),
    Poll(PollSpec),
}

impl StreamAction {
    pub fn kind(&self) -> ActionKind {
        match self {
            StreamAction::Quiz(_) => ActionKind::Quiz,
            StreamAction::Product(_) => ActionKind::Product,
            StreamAction::AmazonProduct(_) => ActionKind::AmazonProduct,
            StreamAction::Notice(_) => ActionKind::Notice,
            StreamAction::Celebration(_) => ActionKind::Celebration,
            StreamAction::Poll(_) => ActionKind::Poll,
        }
    }

    /// How long the action stays up once started; `None` means until it is replaced or stopped.
    pub fn duration(&self) -> Option<Duration> {
        match self {
            StreamAction::Quiz(q) => Some(q.duration),
            StreamAction::Notice(n) => Some(n.duration),
            StreamAction::Celebration(_) => Some(Celebration::DURATION),
            StreamAction::Poll(p) => Some(p.duration),
            StreamAction::Product(_) | StreamAction::AmazonProduct(_) => None,
        }
    }
}

/// Which kind of action, without its data (for logs, metrics and "which action is up").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Quiz,
    Product,
    AmazonProduct,
    Notice,
    Celebration,
    Poll,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Quiz => "quiz",
            ActionKind::Product => "product",
            ActionKind::AmazonProduct => "amazon_product",
            ActionKind::Notice => "notice",
            ActionKind::Celebration => "celebration",
            ActionKind::Poll => "poll",
        }
    }
}

/// A time-boxed question; viewers check their answer locally, so `correct_index` is public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Quiz {
    pub question: String,
    /// 3–5 distinct answers (case-insensitive).
    pub answers: Vec<String>,
    /// Index into `answers`.
    pub correct_index: usize,
    #[serde(rename = "duration_secs", with = "duration_secs")]
    #[schema(value_type = u64)]
    pub duration: Duration,
}

impl Quiz {
    pub const MAX_QUESTION: usize = 256;
    pub const ANSWERS: (usize, usize) = (3, 5);
    pub const MAX_ANSWER: usize = 128;
    pub const DURATION_SECS: (u32, u32) = (5, 30);

    pub fn parse(
        question: &str,
        answers: &[String],
        correct_index: usize,
        duration_secs: u32,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let question = errors.check(text("question", question, 1, Self::MAX_QUESTION));
        let checked = choices(
            "answers",
            answers,
            Self::ANSWERS,
            Self::MAX_ANSWER,
            &mut errors,
        );
        if correct_index >= answers.len() {
            errors.0.push(FieldError::new(
                "correct_index",
                "range",
                "must point at one of the answers",
            ));
        }
        let duration = errors.check(seconds("duration_secs", duration_secs, Self::DURATION_SECS));
        match (question, checked, duration) {
            (Some(question), Some(answers), Some(duration)) if errors.0.is_empty() => Ok(Self {
                question,
                answers,
                correct_index,
                duration,
            }),
            _ => Err(errors),
        }
    }
}

/// A product the streamer shows until they replace or stop it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Product {
    pub title: String,
    pub price: String,
    /// An absolute https URL.
    pub image_url: String,
    /// May be empty.
    pub description: String,
}

impl Product {
    pub const MAX_TITLE: usize = 32;
    pub const MAX_PRICE: usize = 10;
    pub const MAX_DESCRIPTION: usize = 256;

    pub fn parse(
        title: &str,
        price: &str,
        image_url: &str,
        description: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = errors.check(text("title", title, 1, Self::MAX_TITLE));
        let price = errors.check(text("price", price, 1, Self::MAX_PRICE));
        let image_url = errors.check(https_url("image_url", image_url));
        let description = errors.check(text("description", description, 0, Self::MAX_DESCRIPTION));
        match (title, price, image_url, description) {
            (Some(title), Some(price), Some(image_url), Some(description)) => Ok(Self {
                title,
                price,
                image_url,
                description,
            }),
            _ => Err(errors),
        }
    }
}

/// A product picked from the catalog search; shown until replaced or stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AmazonProduct {
    pub title: String,
    pub price: String,
    /// An absolute https URL.
    pub image_url: String,
    /// An absolute https URL (the product page, with the partner tag).
    pub product_url: String,
}

impl AmazonProduct {
    pub const MAX_TITLE: usize = 200;
    pub const MAX_PRICE: usize = 32;

    pub fn parse(
        title: &str,
        price: &str,
        image_url: &str,
        product_url: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = errors.check(text("title", title, 1, Self::MAX_TITLE));
        let price = errors.check(text("price", price, 1, Self::MAX_PRICE));
        let image_url = errors.check(https_url("image_url", image_url));
        let product_url = errors.check(https_url("product_url", product_url));
        match (title, price, image_url, product_url) {
            (Some(title), Some(price), Some(image_url), Some(product_url)) => Ok(Self {
                title,
                price,
                image_url,
                product_url,
            }),
            _ => Err(errors),
        }
    }
}

/// A time-boxed announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Notice {
    pub title: String,
    pub message: String,
    #[serde(rename = "duration_secs", with = "duration_secs")]
    #[schema(value_type = u64)]
    pub duration: Duration,
}

impl Notice {
    pub const MAX_TITLE: usize = 24;
    pub const MAX_MESSAGE: usize = 256;
    pub const DURATION_SECS: (u32, u32) = (5, 30);

    pub fn parse(title: &str, message: &str, duration_secs: u32) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = errors.check(text("title", title, 1, Self::MAX_TITLE));
        let message = errors.check(text("message", message, 1, Self::MAX_MESSAGE));
        let duration = errors.check(seconds("duration_secs", duration_secs, Self::DURATION_SECS));
        match (title, message, duration) {
            (Some(title), Some(message), Some(duration)) => Ok(Self {
                title,
                message,
                duration,
            }),
            _ => Err(errors),
        }
    }
}

/// Confetti; it has no settings and always lasts [`Celebration::DURATION`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Celebration {}

impl Celebration {
    pub const DURATION: Duration = Duration::from_secs(10);
}

/// What a poll asks and for how long; the votes themselves live with the poll, not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PollSpec {
    pub question: String,
    /// 2–5 distinct options (case-insensitive); votes refer to them by index.
    pub options: Vec<String>,
    #[serde(rename = "duration_secs", with = "duration_secs")]
    #[schema(value_type = u64)]
    pub duration: Duration,
}

impl PollSpec {
    pub const MAX_QUESTION: usize = 256;
    pub const OPTIONS: (usize, usize) = (2, 5);
    pub const MAX_OPTION: usize = 40;
    pub const DURATION_SECS: (u32, u32) = (10, 30 * 60);

    pub fn parse(
        question: &str,
        options: &[String],
        duration_secs: u32,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let question = errors.check(text("question", question, 1, Self::MAX_QUESTION));
        let options = choices(
            "options",
            options,
            Self::OPTIONS,
            Self::MAX_OPTION,
            &mut errors,
        );
        let duration = errors.check(seconds("duration_secs", duration_secs, Self::DURATION_SECS));
        match (question, options, duration) {
            (Some(question), Some(options), Some(duration)) => Ok(Self {
                question,
                options,
                duration,
            }),
            _ => Err(errors),
        }
    }
}

/// The longest URL accepted, as browsers and CDNs reliably handle it.
const MAX_URL: usize = 2048;

/// Trims `raw` and checks it is `min..=max` characters with no control characters but line breaks.
fn text(
    field: impl Into<Cow<'static, str>>,
    raw: &str,
    min: usize,
    max: usize,
) -> Result<String, FieldError> {
    let value = raw.trim();
    let len = value.chars().count();
    if len == 0 && min > 0 {
        return Err(FieldError::new(field, "required", "must not be empty"));
    }
    if len < min || len > max {
        return Err(FieldError::new(
            field,
            "length",
            format!("must be {min}–{max} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new(
            field,
            "characters",
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// Checks a list of distinct short texts: `count.0..=count.1` entries, each 1–`max_len`
/// characters, none equal to an earlier one ignoring case. Errors go into `errors`, the count
/// under `field` and each entry under `field.i`.
fn choices(
    field: &'static str,
    raw: &[String],
    count: (usize, usize),
    max_len: usize,
    errors: &mut FieldErrors,
) -> Option<Vec<String>> {
    let before = errors.0.len();
    if raw.len() < count.0 || raw.len() > count.1 {
        errors.0.push(FieldError::new(
            field,
            "length",
            format!("must have {}–{} entries", count.0, count.1),
        ));
    }
    let mut seen: Vec<String> = Vec::with_capacity(raw.len());
    let mut values = Vec::with_capacity(raw.len());
    for (i, entry) in raw.iter().enumerate() {
        let Some(value) = errors.check(text(format!("{field}.{i}"), entry, 1, max_len)) else {
            continue;
        };
        let key = value.to_lowercase();
        if seen.contains(&key) {
            errors.0.push(FieldError::new(
                format!("{field}.{i}"),
                "duplicate",
                "must differ from the other entries",
            ));
        } else {
            seen.push(key);
        }
        values.push(value);
    }
    (errors.0.len() == before).then_some(values)
}

fn seconds(field: &'static str, secs: u32, range: (u32, u32)) -> Result<Duration, FieldError> {
    if secs < range.0 || secs > range.1 {
        return Err(FieldError::new(
            field,
            "range",
            format!("must be {}–{} seconds", range.0, range.1),
        ));
    }
    Ok(Duration::from_secs(secs.into()))
}

/// An absolute `https` URL with a host and no credentials, at most [`MAX_URL`] characters.
/// Stored in its normalised form, which is what was checked.
fn https_url(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldError::new(field, "required", "must not be empty"));
    }
    let too_long = || {
        FieldError::new(
            field,
            "length",
            format!("must be at most {MAX_URL} characters"),
        )
    };
    if raw.chars().count() > MAX_URL {
        return Err(too_long());
    }
    let not_https = || FieldError::new(field, "url", "must be an absolute https URL");
    // The URL standard forgives `https:host`, `https:///host` and backslashes; a client that
    // sends those is confused, so only the plain form is taken.
    let plain = raw
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        && !raw[8..].starts_with(['/', '\\']);
    if !plain {
        return Err(not_https());
    }
    let url = url::Url::parse(raw).map_err(|_| not_https())?;
    if url.scheme() != "https"
        || url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(not_https());
    }
    let url = String::from(url);
    if url.len() > MAX_URL {
        return Err(too_long());
    }
    Ok(url)
}

/// `Duration` as whole seconds, the unit clients use.
mod duration_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn n(c: char, count: usize) -> String {
        std::iter::repeat_n(c, count).collect()
    }

    /// The single error of a refused parse, as (field, code).
    fn only_error<T: std::fmt::Debug>(result: Result<T, FieldErrors>) -> (String, &'static str) {
        let errors = result.unwrap_err();
        assert_eq!(errors.0.len(), 1, "{errors:?}");
        (errors.0[0].field.to_string(), errors.0[0].code)
    }

    fn quiz(
        question: &str,
        answers: &[&str],
        correct_index: usize,
        secs: u32,
    ) -> Result<Quiz, FieldErrors> {
        Quiz::parse(question, &strings(answers), correct_index, secs)
    }

    #[test]
    fn quiz_question_is_one_to_256_characters() {
        let abc = ["a", "b", "c"];
        assert_eq!(
            quiz(&n('é', 256), &abc, 0, 15)
                .unwrap()
                .question
                .chars()
                .count(),
            256
        );
        assert_eq!(
            only_error(quiz(&n('é', 257), &abc, 0, 15)),
            ("question".into(), "length")
        );
        assert_eq!(
            only_error(quiz("  ", &abc, 0, 15)),
            ("question".into(), "required")
        );
        assert_eq!(quiz("  Why?\t", &abc, 0, 15).unwrap().question, "Why?");
    }

    #[test]
    fn quiz_has_three_to_five_distinct_answers_of_at_most_128_characters() {
        assert!(quiz("q", &["a", "b", "c"], 2, 15).is_ok());
        assert!(quiz("q", &["a", "b", "c", "d", "e"], 4, 15).is_ok());
        assert_eq!(
            only_error(quiz("q", &["a", "b", "c", "d", "e", "f"], 0, 15)),
            ("answers".into(), "length")
        );
        let long = n('ß', 128);
        assert_eq!(
            quiz("q", &["a", "b", &long], 0, 15).unwrap().answers[2],
            long
        );
        let too_long = n('ß', 129);
        assert_eq!(
            only_error(quiz("q", &["a", "b", &too_long], 0, 15)),
            ("answers.2".into(), "length")
        );
        assert_eq!(
            only_error(quiz("q", &["a", " ", "c"], 0, 15)),
            ("answers.1".into(), "required")
        );
        assert_eq!(
            only_error(quiz("q", &["Yes", "no", " YES "], 0, 15)),
            ("answers.2".into(), "duplicate")
        );
        assert_eq!(
            quiz("q", &[" a ", "b", "c"], 0, 15).unwrap().answers,
            ["a", "b", "c"]
        );
    }

    #[test]
    fn quiz_correct_index_points_at_an_answer() {
        assert_eq!(
            quiz("q", &["a", "b", "c", "d"], 3, 15)
                .unwrap()
                .correct_index,
            3
        );
        assert_eq!(
            only_error(quiz("q", &["a", "b", "c", "d"], 4, 15)),
            ("correct_index".into(), "range")
        );
    }

    #[test]
    fn quiz_lasts_five_to_thirty_seconds() {
        let abc = ["a", "b", "c"];
        assert_eq!(
            quiz("q", &abc, 0, 5).unwrap().duration,
            Duration::from_secs(5)
        );
        assert_eq!(
            quiz("q", &abc, 0, 30).unwrap().duration,
            Duration::from_secs(30)
        );
        assert_eq!(
            only_error(quiz("q", &abc, 0, 4)),
            ("duration_secs".into(), "range")
        );
        assert_eq!(
            only_error(quiz("q", &abc, 0, 31)),
            ("duration_secs".into(), "range")
        );
    }

    #[test]
    fn product_fields_are_bounded() {
        let img = "https://cdn.example.com/shoe.png";
        let ok = Product::parse(&n('x', 32), &n('$', 10), img, &n('d', 256)).unwrap();
        assert_eq!(
            (ok.title.len(), ok.price.len(), ok.description.len()),
            (32, 10, 256)
        );
        assert!(
            Product::parse("t", "1", img, "  ")
                .unwrap()
                .description
                .is_empty()
        );
        assert_eq!(
            only_error(Product::parse(&n('x', 33), "1", img, "")),
            ("title".into(), "length")
        );
        assert_eq!(
            only_error(Product::parse("t", &n('1', 11), img, "")),
            ("price".into(), "length")
        );
        assert_eq!(
            only_error(Product::parse("t", "", img, "")),
            ("price".into(), "required")
        );
        assert_eq!(
            only_error(Product::parse("t", "1", img, &n('d', 257))),
            ("description".into(), "length")
        );
    }

    #[test]
    fn image_urls_must_be_absolute_https_and_at_most_2048_characters() {
        let prefix = "https://cdn.example.com/";
        let edge = format!("{prefix}{}", n('a', 2048 - prefix.len()));
        assert_eq!(Product::parse("t", "1", &edge, "").unwrap().image_url, edge);
        let past = format!("{edge}a");
        assert_eq!(
            only_error(Product::parse("t", "1", &past, "")),
            ("image_url".into(), "length")
        );
        for bad in [
            "http://cdn.example.com/a.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "//cdn.example.com/a.png",
            "/a.png",
            "https://user:pw@cdn.example.com/a.png",
            "https:///a.png",
            "https:cdn.example.com/a.png",
            "https:\\\\cdn.example.com/a.png",
            "https://",
            "not a url",
        ] {
            assert_eq!(
                only_error(Product::parse("t", "1", bad, "")),
                ("image_url".into(), "url"),
                "{bad}"
            );
        }
        assert_eq!(
            only_error(Product::parse("t", "1", " ", "")),
            ("image_url".into(), "required")
        );
    }

    #[test]
    fn amazon_product_fields_are_bounded() {
        let img = "https://m.media-amazon.com/images/I/1.jpg";
        let page = "https://www.amazon.com/dp/B000000001?tag=x-20";
        let ok = AmazonProduct::parse(&n('t', 200), &n('p', 32), img, page).unwrap();
        assert_eq!((ok.title.len(), ok.price.len()), (200, 32));
        assert_eq!(
            only_error(AmazonProduct::parse(&n('t', 201), "1", img, page)),
            ("title".into(), "length")
        );
        assert_eq!(
            only_error(AmazonProduct::parse("t", &n('p', 33), img, page)),
            ("price".into(), "length")
        );
        assert_eq!(
            only_error(AmazonProduct::parse(
                "t",
                "1",
                img,
                "http://www.amazon.com/dp/B1"
            )),
            ("product_url".into(), "url")
        );
    }

    #[test]
    fn notice_fields_are_bounded() {
        let ok = Notice::parse(&n('t', 24), &n('m', 256), 30).unwrap();
        assert_eq!(
            (ok.title.len(), ok.message.len(), ok.duration.as_secs()),
            (24, 256, 30)
        );
        assert!(Notice::parse("t", "m", 5).is_ok());
        assert_eq!(
            only_error(Notice::parse(&n('t', 25), "m", 15)),
            ("title".into(), "length")
        );
        assert_eq!(
            only_error(Notice::parse("t", &n('m', 257), 15)),
            ("message".into(), "length")
        );
        assert_eq!(
            only_error(Notice::parse("t", "", 15)),
            ("message".into(), "required")
        );
        assert_eq!(
            only_error(Notice::parse("t", "m", 4)),
            ("duration_secs".into(), "range")
        );
        assert_eq!(
            only_error(Notice::parse("t", "m", 31)),
            ("duration_secs".into(), "range")
        );
        assert_eq!(
            only_error(Notice::parse("t\u{7}", "m", 15)),
            ("title".into(), "characters")
        );
    }

    #[test]
    fn poll_has_two_to_five_distinct_options_and_lasts_ten_seconds_to_thirty_minutes() {
        let poll = |opts: &[&str], secs| PollSpec::parse("q", &strings(opts), secs);
        assert_eq!(
            poll(&["a", "b"], 10).unwrap().duration,
            Duration::from_secs(10)
        );
        assert_eq!(
            poll(&["a", "b", "c", "d", "e"], 1800)
                .unwrap()
                .options
                .len(),
            5
        );
        assert_eq!(only_error(poll(&["a"], 60)), ("options".into(), "length"));
        assert_eq!(
            only_error(poll(&["a", "b", "c", "d", "e", "f"], 60)),
            ("options".into(), "length")
        );
        assert_eq!(poll(&[&n('o', 40), "b"], 60).unwrap().options[0].len(), 40);
        assert_eq!(
            only_error(poll(&["a", &n('o', 41)], 60)),
            ("options.1".into(), "length")
        );
        assert_eq!(
            only_error(poll(&["Cats", "cats "], 60)),
            ("options.1".into(), "duplicate")
        );
        assert_eq!(
            only_error(poll(&["a", "b"], 9)),
            ("duration_secs".into(), "range")
        );
        assert_eq!(
            only_error(poll(&["a", "b"], 1801)),
            ("duration_secs".into(), "range")
        );
        let q = PollSpec::parse(&n('q', 256), &strings(&["a", "b"]), 60).unwrap();
        assert_eq!(q.question.len(), 256);
        let past = PollSpec::parse(&n('q', 257), &strings(&["a", "b"]), 60);
        assert_eq!(only_error(past), ("question".into(), "length"));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let input = ActionInput::Quiz {
            question: "".into(),
            answers: strings(&["a", "A", ""]),
            correct_index: 7,
            duration_secs: 99,
        };
        let fields: Vec<_> = input
            .parse()
            .unwrap_err()
            .0
            .iter()
            .map(|e| (e.field.to_string(), e.code))
            .collect();
        assert_eq!(
            fields,
            [
                ("question".to_string(), "required"),
                ("answers.1".to_string(), "duplicate"),
                ("answers.2".to_string(), "required"),
                ("correct_index".to_string(), "range"),
                ("duration_secs".to_string(), "range"),
            ]
        );

        let input = ActionInput::Product {
            title: "".into(),
            price: n('1', 11),
            image_url: "http://x.example/a.png".into(),
            description: "".into(),
        };
        let fields: Vec<_> = input
            .parse()
            .unwrap_err()
            .0
            .iter()
            .map(|e| e.field.to_string())
            .collect();
        assert_eq!(fields, ["title", "price", "image_url"]);
    }

    #[test]
    fn input_json_is_tagged_and_parses_into_an_action() {
        let input: ActionInput = serde_json::from_value(json!({
            "type": "notice", "title": " Hi ", "message": "Be nice", "duration_secs": 15
        }))
        .unwrap();
        let action = input.parse().unwrap();
        assert_eq!(action.kind(), ActionKind::Notice);
        assert_eq!(action.duration(), Some(Duration::from_secs(15)));
        let celebration: ActionInput =
            serde_json::from_value(json!({"type": "celebration"})).unwrap();
        let celebration = celebration.parse().unwrap();
        assert_eq!(celebration.kind().as_str(), "celebration");
        assert_eq!(celebration.duration(), Some(Duration::from_secs(10)));
    }

    #[test]
    fn unknown_types_and_extra_fields_are_refused() {
        let unknown = json!({"type": "raffle", "title": "t"});
        assert!(serde_json::from_value::<ActionInput>(unknown).is_err());
        let extra = json!({"type": "notice", "title": "t", "message": "m", "duration_secs": 15, "color": "red"});
        assert!(serde_json::from_value::<ActionInput>(extra).is_err());
        let extra = json!({"type": "celebration", "duration_secs": 60});
        assert!(serde_json::from_value::<ActionInput>(extra).is_err());
        let untagged = json!({"title": "t", "message": "m", "duration_secs": 15});
        assert!(serde_json::from_value::<ActionInput>(untagged).is_err());
    }

    #[test]
    fn actions_round_trip_through_json_in_the_client_shape() {
        let quiz = StreamAction::Quiz(quiz("q", &["a", "b", "c"], 1, 15).unwrap());
        assert_eq!(
            serde_json::to_value(&quiz).unwrap(),
            json!({"type": "quiz", "question": "q", "answers": ["a", "b", "c"], "correct_index": 1, "duration_secs": 15})
        );
        let poll = StreamAction::Poll(PollSpec::parse("q", &strings(&["a", "b"]), 600).unwrap());
        assert_eq!(
            serde_json::to_value(&poll).unwrap(),
            json!({"type": "poll", "question": "q", "options": ["a", "b"], "duration_secs": 600})
        );
        let img = "https://cdn.example.com/a.png";
        let all = [
            quiz,
            poll,
            StreamAction::Product(Product::parse("t", "$1", img, "").unwrap()),
            StreamAction::AmazonProduct(AmazonProduct::parse("t", "$1", img, img).unwrap()),
            StreamAction::Notice(Notice::parse("t", "m", 5).unwrap()),
            StreamAction::Celebration(Celebration {}),
        ];
        for action in all {
            let json = serde_json::to_string(&action).unwrap();
            assert!(
                json.contains(&format!("\"type\":\"{}\"", action.kind().as_str())),
                "{json}"
            );
            assert_eq!(serde_json::from_str::<StreamAction>(&json).unwrap(), action);
        }
    }

    #[test]
    fn only_products_last_until_replaced() {
        let img = "https://cdn.example.com/a.png";
        let product = StreamAction::Product(Product::parse("t", "$1", img, "").unwrap());
        let amazon =
            StreamAction::AmazonProduct(AmazonProduct::parse("t", "$1", img, img).unwrap());
        assert_eq!((product.duration(), amazon.duration()), (None, None));
        assert_eq!(amazon.kind().as_str(), "amazon_product");
    }
}
