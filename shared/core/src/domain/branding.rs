//! How an embed session's pages look inside the host product: the product's name, an accent
//! colour, a logo and a theme (`POST /sessions`'s `branding`). Validated here, kept with the
//! session, applied by the embed page (CSS custom properties; the logo's origin alone is added
//! to the page's CSP `img-src`).

use serde::{Deserialize, Serialize};
use url::Url;

use crate::ValidationErrors;

const MAX_NAME: usize = 64;
const MAX_LOGO_URL: usize = 2048;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    Light,
    Dark,
    /// The viewer's system preference.
    #[default]
    Auto,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    /// Shown in the page's header instead of "Switchyard".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `#rrggbb`, lower case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    /// `https://…`; `http://` only to a loopback host where webhooks may be (local development).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(default)]
    pub theme: Theme,
}

/// A create body's `branding`, as sent.
#[derive(Clone, Debug, Default)]
pub struct BrandingInput<'a> {
    pub name: Option<&'a str>,
    pub accent_color: Option<&'a str>,
    pub logo_url: Option<&'a str>,
    pub theme: Option<&'a str>,
}

impl Branding {
    /// Every fault of `input` into `errors` (params under `branding.`), or the branding.
    pub fn parse(
        errors: &mut ValidationErrors,
        input: &BrandingInput<'_>,
        allow_loopback_http: bool,
    ) -> Branding {
        let name = input.name.map(str::trim).and_then(|n| {
            let ok =
                !n.is_empty() && n.chars().count() <= MAX_NAME && !n.chars().any(char::is_control);
            if !ok {
                errors.push(
                    "branding.name",
                    format!("must be 1 to {MAX_NAME} characters, no control characters"),
                );
            }
            ok.then(|| n.to_owned())
        });
        let accent_color = input.accent_color.and_then(|c| {
            let ok = c.len() == 7
                && c.starts_with('#')
                && c[1..].chars().all(|ch| ch.is_ascii_hexdigit());
            if !ok {
                errors.push("branding.accent_color", "must be a colour as #rrggbb");
            }
            ok.then(|| c.to_ascii_lowercase())
        });
        let logo_url = input
            .logo_url
            .and_then(|raw| match logo(raw, allow_loopback_http) {
                Some(url) => Some(url),
                None => {
                    errors.push(
                        "branding.logo_url",
                        "must be an https:// URL of at most 2048 characters, without credentials",
                    );
                    None
                }
            });
        let theme = match input.theme {
            None | Some("auto") => Theme::Auto,
            Some("light") => Theme::Light,
            Some("dark") => Theme::Dark,
            Some(_) => {
                errors.push("branding.theme", "must be one of light, dark, auto");
                Theme::Auto
            }
        };
        Branding {
            name,
            accent_color,
            logo_url,
            theme,
        }
    }

    /// The logo's origin (`scheme://host[:port]`): the one image source the embed page's CSP
    /// adds.
    pub fn logo_origin(&self) -> Option<String> {
        let url = Url::parse(self.logo_url.as_deref()?).ok()?;
        Some(url.origin().ascii_serialization())
    }
}

fn logo(raw: &str, allow_loopback_http: bool) -> Option<String> {
    if raw.len() > MAX_LOGO_URL {
        return None;
    }
    let url = Url::parse(raw).ok()?;
    let loopback = match url.host()? {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    let scheme_ok = match url.scheme() {
        "https" => true,
        "http" => allow_loopback_http && loopback,
        _ => false,
    };
    let bare = url.username().is_empty() && url.password().is_none();
    // An origin that could break out of the CSP header: never (Url serialises hosts safely,
    // but a quote or space must not reach `img-src`).
    let origin = url.origin().ascii_serialization();
    let clean = !origin.contains(['\'', ' ', ';', ',']);
    (scheme_ok && bare && clean).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: BrandingInput<'_>, loopback: bool) -> (Branding, Vec<String>) {
        let mut errors = ValidationErrors::default();
        let b = Branding::parse(&mut errors, &input, loopback);
        let params = errors.0.iter().map(|e| e.param.clone()).collect();
        (b, params)
    }

    #[test]
    fn valid_branding_is_kept_normalised() {
        let (b, errors) = parse(
            BrandingInput {
                name: Some(" Acme "),
                accent_color: Some("#12ABef"),
                logo_url: Some("https://cdn.acme.test/logo.png"),
                theme: Some("dark"),
            },
            false,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(b.name.as_deref(), Some("Acme"));
        assert_eq!(b.accent_color.as_deref(), Some("#12abef"));
        assert_eq!(b.theme, Theme::Dark);
        assert_eq!(b.logo_origin().as_deref(), Some("https://cdn.acme.test"));
    }

    #[test]
    fn bad_values_name_their_field() {
        let (_, errors) = parse(
            BrandingInput {
                name: Some(""),
                accent_color: Some("red"),
                logo_url: Some("http://cdn.acme.test/logo.png"),
                theme: Some("neon"),
            },
            true,
        );
        assert_eq!(
            errors,
            [
                "branding.name",
                "branding.accent_color",
                "branding.logo_url",
                "branding.theme"
            ]
        );
        for url in [
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "https://user:pw@cdn.acme.test/x.png",
            "ftp://cdn.acme.test/x.png",
        ] {
            let (_, errors) = parse(
                BrandingInput {
                    logo_url: Some(url),
                    ..Default::default()
                },
                true,
            );
            assert_eq!(errors, ["branding.logo_url"], "{url}");
        }
    }

    #[test]
    fn http_logos_only_on_loopback_where_allowed() {
        let input = BrandingInput {
            logo_url: Some("http://127.0.0.1:9000/logo.svg"),
            ..Default::default()
        };
        assert!(parse(input.clone(), true).1.is_empty());
        assert_eq!(parse(input, false).1, ["branding.logo_url"]);
    }
}
