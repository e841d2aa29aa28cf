// Package graph reads Microsoft Entra ID through Microsoft Graph v1.0,
// as a daemon with an app registration: a tenant, a client ID, and a
// certificate (preferred) or a client secret.
//
// Tokens come from the Azure SDK's azidentity (MSAL underneath), which
// caches them and builds a fresh certificate assertion for each request.
// The Graph calls themselves are plain net/http and encoding/json: roster
// makes a handful of them, and the Graph SDK costs minutes of build time
// and tens of megabytes for models roster never uses.
//
// Every read is proved complete or fails: a page is followed by its
// @odata.nextLink until a page has none, a throttled or unavailable page
// is retried (Retry-After honoured, bounded in count and time), and a
// page that still fails fails the whole read. Errors are written for the
// admin: AADSTS codes and Graph error codes become what to fix.
package graph
