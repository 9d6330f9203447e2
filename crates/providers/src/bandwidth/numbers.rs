//! Bandwidth's Dashboard API (XML) for the account and its numbers: search
//! (`availableNumbers`), orders, in-service numbers and disconnects.
//! https://dev.bandwidth.com/docs/numbers/guides/searchingForNumbers and the pages beside it.

use super::client::{Bandwidth, NAME};
use crate::capability::*;
use crate::error::{Delivery, ErrorClass, ProviderError};
use crate::http::{Body, Request, Response, path_segment};
use crate::xml::escape;
use async_trait::async_trait;
use http::Method;
use std::time::Duration;

/// How often, and how far apart, a new order is checked before it is reported pending.
const ORDER_CHECKS: u32 = 10;
const ORDER_CHECK_EVERY: Duration = Duration::from_millis(500);

/// In-service numbers per page.
const PAGE: usize = 500;

/// The text of every element called `name`, in document order.
fn all(doc: &roxmltree::Document<'_>, name: &str) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name(name))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .filter(|t| !t.is_empty())
        .collect()
}

fn first(doc: &roxmltree::Document<'_>, name: &str) -> Option<String> {
    all(doc, name).into_iter().next()
}

fn parse(body: &[u8]) -> Result<roxmltree::Document<'_>, ProviderError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ProviderError::malformed(NAME, "response is not UTF-8"))?;
    roxmltree::Document::parse(text)
        .map_err(|e| ProviderError::malformed(NAME, format!("response is not XML ({e})")))
}

/// The Dashboard's errors (`<Error><Code>`, `<ResponseStatus><ErrorCode>`), in an XML body
/// of any 2xx or error answer; `None` when there is none.
fn xml_error(status: u16, body: &[u8]) -> Option<ProviderError> {
    let text = std::str::from_utf8(body).ok()?;
    let doc = roxmltree::Document::parse(text).ok()?;
    let code = first(&doc, "Code").or_else(|| first(&doc, "ErrorCode"))?;
    let description =
        first(&doc, "Description").unwrap_or_else(|| "Bandwidth refused the request".into());
    Some(ProviderError {
        provider: NAME,
        class: ErrorClass::from_status(status),
        delivery: Delivery::NotAccepted,
        status: Some(status),
        message: format!("{description} (HTTP {status}, code {code})"),
        code: Some(code),
        retry_after: None,
    })
}

fn failure(resp: &Response) -> ProviderError {
    let status = resp.status.as_u16();
    xml_error(status, &resp.body).unwrap_or_else(|| ProviderError {
        provider: NAME,
        class: ErrorClass::from_status(status),
        delivery: Delivery::NotAccepted,
        status: Some(status),
        message: format!("Bandwidth refused the request (HTTP {status})"),
        code: None,
        retry_after: None,
    })
}

/// A ten-digit NANP number as Bandwidth writes it, from E.164.
fn tn(e164: &str) -> Result<&str, ProviderError> {
    e164.strip_prefix("+1")
        .filter(|d| d.len() == 10 && d.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| {
            ProviderError::refused(NAME, format!("{e164} is not a US or Canadian number"))
                .with_code("unsupported_number")
        })
}

fn owned(tn: &str) -> OwnedNumber {
    OwnedNumber {
        provider_number_id: tn.to_string(),
        e164: format!("+1{tn}"),
        voice: true,
        sms: true,
        mms: true,
    }
}

impl Bandwidth {
    fn dashboard(&self, rest: &str) -> String {
        format!(
            "{}/accounts/{}{rest}",
            self.s.hosts.numbers, self.s.account_id
        )
    }

    /// A Dashboard request; the XML body of a 2xx answer.
    async fn dashboard_api(
        &self,
        method: Method,
        rest: &str,
        xml: Option<String>,
    ) -> Result<Vec<u8>, ProviderError> {
        let url = self.dashboard(rest);
        let body = match xml {
            Some(doc) => Body::Raw {
                content_type: "application/xml; charset=utf-8".into(),
                bytes: doc.into_bytes(),
            },
            None => Body::Empty,
        };
        let resp = self
            .exchange(|auth| Request::new(method.clone(), url.clone(), auth, body.clone()))
            .await?;
        if !resp.status.is_success() {
            return Err(failure(&resp));
        }
        Ok(resp.body)
    }

    /// The account's name for the connection test.
    pub(super) async fn account(&self) -> Result<ConnectionInfo, ProviderError> {
        let body = self.dashboard_api(Method::GET, "", None).await?;
        let doc = parse(&body)?;
        Ok(ConnectionInfo {
            account: first(&doc, "CompanyName").unwrap_or_else(|| self.s.account_id.clone()),
            detail: format!(
                "account {}{}",
                self.s.account_id,
                first(&doc, "AccountType")
                    .map(|t| format!(", {t}"))
                    .unwrap_or_default()
            ),
        })
    }

    async fn order_status(&self, order_id: &str) -> Result<(String, Vec<String>), ProviderError> {
        let rest = format!("/orders/{}", path_segment(NAME, order_id)?);
        let body = self.dashboard_api(Method::GET, &rest, None).await?;
        let doc = parse(&body)?;
        if let Some(e) = xml_error(200, &body) {
            return Err(ProviderError {
                class: ErrorClass::ProviderRefused,
                ..e
            });
        }
        Ok((
            first(&doc, "OrderStatus").unwrap_or_default(),
            all(&doc, "FullNumber"),
        ))
    }
}

#[async_trait]
impl Connection for Bandwidth {
    async fn test_connection(&self) -> Result<ConnectionInfo, ProviderError> {
        self.account().await
    }
}

#[async_trait]
impl Numbers for Bandwidth {
    /// Bandwidth sells US and Canadian numbers; `quantity` is the limit.
    async fn search_available(
        &self,
        query: &NumberQuery,
    ) -> Result<Vec<AvailableNumber>, ProviderError> {
        let country = query.country.to_ascii_uppercase();
        if !matches!(country.as_str(), "US" | "CA") {
            return Err(ProviderError::unsupported(
                NAME,
                "numbers outside the US and Canada",
            ));
        }
        let mut params: Vec<(&str, String)> = Vec::new();
        match (query.kind, &query.area_code) {
            (NumberKind::TollFree, Some(prefix)) => {
                params.push(("tollFreeWildCardPattern", format!("{prefix}*")))
            }
            (NumberKind::TollFree, None) => params.push(("tollFreeWildCardPattern", "8**".into())),
            (_, Some(area)) => params.push(("areaCode", area.clone())),
            (_, None) => {
                return Err(ProviderError::refused(
                    NAME,
                    "Bandwidth searches local numbers by area code: give area_code",
                )
                .with_code("area_code_required"));
            }
        }
        params.push((
            "quantity",
            query.limit.unwrap_or(20).clamp(1, 5000).to_string(),
        ));
        let qs = serde_urlencoded::to_string(&params).unwrap_or_default();
        let body = self
            .dashboard_api(Method::GET, &format!("/availableNumbers?{qs}"), None)
            .await?;
        if let Some(e) = xml_error(200, &body) {
            return Err(e);
        }
        let doc = parse(&body)?;
        Ok(all(&doc, "TelephoneNumber")
            .into_iter()
            .map(|tn| AvailableNumber {
                e164: format!("+1{tn}"),
                country: Some(country.clone()),
                locality: None,
                voice: true,
                sms: true,
                mms: true,
            })
            .collect())
    }

    /// Orders the number (`ExistingTelephoneNumberOrderType`) for the configured site and
    /// waits a few seconds for the order to complete.
    async fn buy(&self, e164: &str) -> Result<OwnedNumber, ProviderError> {
        let number = tn(e164)?;
        let site = self.s.site_id.clone().ok_or_else(|| {
            ProviderError::refused(
                NAME,
                "credentials.site_id is not set, so numbers cannot be ordered",
            )
            .with_code("not_configured")
        })?;
        let peer = self
            .s
            .peer_id
            .as_ref()
            .map(|p| format!("<PeerId>{}</PeerId>", escape(p)))
            .unwrap_or_default();
        let order = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Order><SiteId>{}</SiteId>{peer}<PartialAllowed>false</PartialAllowed>\
             <ExistingTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>{number}</TelephoneNumber>\
             </TelephoneNumberList></ExistingTelephoneNumberOrderType></Order>",
            escape(&site)
        );
        let body = self
            .dashboard_api(Method::POST, "/orders", Some(order))
            .await?;
        if let Some(e) = xml_error(200, &body) {
            return Err(ProviderError {
                class: ErrorClass::ProviderRefused,
                ..e
            });
        }
        let doc = parse(&body)?;
        let order_id = first(&doc, "id")
            .or_else(|| first(&doc, "OrderId"))
            .ok_or_else(|| ProviderError::malformed(NAME, "order without id"))?;
        for check in 0..ORDER_CHECKS {
            if check > 0 {
                tokio::time::sleep(ORDER_CHECK_EVERY).await;
            }
            let (status, numbers) = self.order_status(&order_id).await?;
            match status.as_str() {
                "COMPLETE" if numbers.iter().any(|n| n == number) => return Ok(owned(number)),
                "COMPLETE" | "PARTIAL" | "FAILED" => {
                    return Err(ProviderError::refused(
                        NAME,
                        format!("order {order_id} for {e164} ended {status}"),
                    )
                    .with_code("order_failed"));
                }
                _ => {}
            }
        }
        Err(ProviderError::refused(
            NAME,
            format!("order {order_id} for {e164} is not complete yet"),
        )
        .with_code("order_pending"))
    }

    async fn release(&self, provider_number_id: &str) -> Result<(), ProviderError> {
        let number = path_segment(NAME, provider_number_id)?;
        if !self
            .list_owned()
            .await?
            .iter()
            .any(|n| n.provider_number_id == number)
        {
            return Err(
                ProviderError::refused(NAME, format!("the account does not own {number}"))
                    .with_code("not_owned"),
            );
        }
        let order = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DisconnectTelephoneNumberOrder><name>switchyard release</name>\
             <DisconnectTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>{}</TelephoneNumber>\
             </TelephoneNumberList></DisconnectTelephoneNumberOrderType></DisconnectTelephoneNumberOrder>",
            escape(number)
        );
        let body = self
            .dashboard_api(Method::POST, "/disconnects", Some(order))
            .await?;
        match xml_error(200, &body) {
            Some(e) => Err(ProviderError {
                class: ErrorClass::ProviderRefused,
                ..e
            }),
            None => Ok(()),
        }
    }

    async fn list_owned(&self) -> Result<Vec<OwnedNumber>, ProviderError> {
        let mut out: Vec<OwnedNumber> = Vec::new();
        for page in 1.. {
            let body = self
                .dashboard_api(
                    Method::GET,
                    &format!("/inserviceNumbers?page={page}&size={PAGE}"),
                    None,
                )
                .await?;
            let doc = parse(&body)?;
            let numbers = all(&doc, "TelephoneNumber");
            let total: usize = first(&doc, "TotalCount")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let empty = numbers.is_empty();
            out.extend(numbers.iter().map(|n| owned(n)));
            if empty || out.len() >= total {
                break;
            }
        }
        Ok(out)
    }

    /// Bandwidth routes a number's traffic by its location's applications, not per number,
    /// so importing only checks the account has it in service.
    async fn import(&self, e164: &str) -> Result<OwnedNumber, ProviderError> {
        let number = tn(e164)?;
        self.list_owned()
            .await?
            .into_iter()
            .find(|n| n.provider_number_id == number)
            .ok_or_else(|| {
                ProviderError::refused(NAME, format!("the account does not own {e164}"))
                    .with_code("not_owned")
            })
    }
}
