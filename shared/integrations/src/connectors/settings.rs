//! Where each provider's API lives. Defaults are the real public hosts; the embedded runtime
//! reads `SWITCHYARD_<PROVIDER>_API_URL` so tests and proxies can point them elsewhere.
//! Salesforce and ActiveCampaign are per-account hosts, taken from the connection; Pipedrive's
//! is a template of the company domain.

use url::Url;

/// One base URL per provider with a fixed host. Mailchimp's may contain `{dc}`, replaced by
/// the connection's data center; Pipedrive's `{company}`, by its company domain.
#[derive(Clone, Debug)]
pub struct ProviderUrls {
    pub slack: Url,
    pub hubspot: Url,
    pub mailchimp: String,
    pub resend: Url,
    pub intercom: Url,
    pub aweber: Url,
    pub mailerlite: Url,
    pub zoom: Url,
    /// Customer.io's Track API, per data region.
    pub customer_io_us: Url,
    pub customer_io_eu: Url,
    /// Customer.io's App API (listing segments), per data region.
    pub customer_io_app_us: Url,
    pub customer_io_app_eu: Url,
    pub discord: Url,
    pub sendgrid: Url,
    pub pipedrive: String,
}

impl Default for ProviderUrls {
    fn default() -> Self {
        let url = |s: &str| Url::parse(s).expect("valid default provider URL");
        Self {
            slack: url("https://slack.com/api"),
            hubspot: url("https://api.hubapi.com"),
            mailchimp: "https://{dc}.api.mailchimp.com/3.0".into(),
            resend: url("https://api.resend.com"),
            intercom: url("https://api.intercom.io"),
            aweber: url("https://api.aweber.com/1.0"),
            mailerlite: url("https://connect.mailerlite.com/api"),
            zoom: url("https://api.zoom.us/v2"),
            customer_io_us: url("https://track.customer.io/api/v1"),
            customer_io_eu: url("https://track-eu.customer.io/api/v1"),
            customer_io_app_us: url("https://api.customer.io/v1"),
            customer_io_app_eu: url("https://api-eu.customer.io/v1"),
            discord: url("https://discord.com/api"),
            sendgrid: url("https://api.sendgrid.com"),
            pipedrive: "https://{company}.pipedrive.com/api/v1".into(),
        }
    }
}

impl ProviderUrls {
    /// The defaults, each replaced by its `SWITCHYARD_<PROVIDER>_API_URL` when set.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut urls = Self::default();
        let parse = |name: &str, value: String| {
            Url::parse(&value)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| format!("{name} is not an http(s) URL"))
        };
        for (name, slot) in [
            ("SWITCHYARD_SLACK_API_URL", &mut urls.slack),
            ("SWITCHYARD_HUBSPOT_API_URL", &mut urls.hubspot),
            ("SWITCHYARD_RESEND_API_URL", &mut urls.resend),
            ("SWITCHYARD_INTERCOM_API_URL", &mut urls.intercom),
            ("SWITCHYARD_AWEBER_API_URL", &mut urls.aweber),
            ("SWITCHYARD_MAILERLITE_API_URL", &mut urls.mailerlite),
            ("SWITCHYARD_ZOOM_API_URL", &mut urls.zoom),
            ("SWITCHYARD_CUSTOMER_IO_API_URL", &mut urls.customer_io_us),
            (
                "SWITCHYARD_CUSTOMER_IO_EU_API_URL",
                &mut urls.customer_io_eu,
            ),
            ("SWITCHYARD_DISCORD_API_URL", &mut urls.discord),
            ("SWITCHYARD_SENDGRID_API_URL", &mut urls.sendgrid),
        ] {
            if let Some(value) = get(name) {
                *slot = parse(name, value)?;
            }
        }
        if let Some(value) = get("SWITCHYARD_MAILCHIMP_API_URL") {
            parse("SWITCHYARD_MAILCHIMP_API_URL", value.replace("{dc}", "dc"))?;
            urls.mailchimp = value;
        }
        if let Some(value) = get("SWITCHYARD_PIPEDRIVE_API_URL") {
            parse(
                "SWITCHYARD_PIPEDRIVE_API_URL",
                value.replace("{company}", "company"),
            )?;
            urls.pipedrive = value;
        }
        Ok(urls)
    }

    /// Every provider at one local server, under `/<provider>` (tests).
    pub fn all_at(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        let url = |p: &str| Url::parse(&format!("{base}/{p}")).expect("valid base URL");
        Self {
            slack: url("slack/api"),
            hubspot: url("hubspot"),
            mailchimp: format!("{base}/mailchimp/{{dc}}/3.0"),
            resend: url("resend"),
            intercom: url("intercom"),
            aweber: url("aweber/1.0"),
            mailerlite: url("mailerlite/api"),
            zoom: url("zoom/v2"),
            customer_io_us: url("customer_io/us/api/v1"),
            customer_io_eu: url("customer_io/eu/api/v1"),
            customer_io_app_us: url("customer_io/us/app/v1"),
            customer_io_app_eu: url("customer_io/eu/app/v1"),
            discord: url("discord/api"),
            sendgrid: url("sendgrid"),
            pipedrive: format!("{base}/pipedrive/{{company}}/api/v1"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_vars_replace_the_defaults() {
        let urls = ProviderUrls::from_lookup(|name| match name {
            "SWITCHYARD_SLACK_API_URL" => Some("http://127.0.0.1:9000/api".into()),
            "SWITCHYARD_MAILCHIMP_API_URL" => Some("http://127.0.0.1:9000/{dc}/3.0".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(urls.slack.as_str(), "http://127.0.0.1:9000/api");
        assert_eq!(urls.mailchimp, "http://127.0.0.1:9000/{dc}/3.0");
        assert_eq!(urls.hubspot.as_str(), "https://api.hubapi.com/");
        let bad = ProviderUrls::from_lookup(|name| {
            (name == "SWITCHYARD_ZOOM_API_URL").then(|| "ftp://x".into())
        });
        assert_eq!(
            bad.unwrap_err(),
            "SWITCHYARD_ZOOM_API_URL is not an http(s) URL"
        );
    }
}
