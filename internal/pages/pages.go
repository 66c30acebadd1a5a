// Package pages renders gatehouse's built-in pages (sign in, access denied, signed out,
// sign-in failed): plain HTML with embedded CSS, no scripts and no external fonts, so
// they work without JavaScript and leak no requests to third parties. They are branded
// with a title, a logo URL and three colours from the configuration.
//
// Pages never show causes: the caller logs the cause and passes a fixed, public message.
package pages

import (
	_ "embed"
	"net/http"
	"strconv"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

//go:embed style.css
var styleCSS string

// Kind names a built-in page.
type Kind string

// The built-in pages.
const (
	Login     Kind = "login"
	Denied    Kind = "denied"
	LoggedOut Kind = "logged_out"
	Failed    Kind = "failed" // sign-in could not complete (provider error, expired state)
)

// Default colours: a blue button with a contrast ratio above 4.5:1 against white text,
// on a light grey background.
const (
	DefaultTitle      = "gatehouse"
	DefaultPrimary    = "#1a5fb4"
	DefaultBackground = "#f3f4f6"
	DefaultText       = "#1f2328"
)

// Brand is the validated branding of a set of pages. The colours are hex (checked by
// config), which is what lets them into the style sheet unescaped.
type Brand struct {
	Title, LogoURL            string
	Primary, Background, Text string
}

// Set renders pages with one brand. The zero value is not usable; use New.
type Set struct{ brand Brand }

// New builds a page set from the (validated) configuration; empty fields get defaults.
func New(cfg config.Pages) *Set {
	b := Brand{Title: cfg.Title, LogoURL: cfg.LogoURL, Primary: DefaultPrimary, Background: DefaultBackground, Text: DefaultText}
	if b.Title == "" {
		b.Title = DefaultTitle
	}
	// Colours are validated as hex (#rgb, #rrggbb); anything else keeps the default, so
	// nothing but a hex colour ever reaches the style sheet.
	for _, c := range []struct {
		dst *string
		v   string
	}{{&b.Primary, cfg.PrimaryColor}, {&b.Background, cfg.BackgroundColor}, {&b.Text, cfg.TextColor}} {
		if config.IsHexColor(c.v) {
			*c.dst = c.v
		}
	}
	return &Set{brand: b}
}

// Content is what a page says. ActionURL, when set, becomes the page's one button.
type Content struct {
	Heading, Message, Detail string
	ActionURL, ActionLabel   string
}

// Defaults returns the standard wording of a built-in page; actionURL is where its
// button leads (the login URL for login and logged_out pages), empty for none.
func Defaults(k Kind, actionURL string) Content {
	switch k {
	case Login:
		return Content{Heading: "Sign in required", Message: "This page is only available to signed-in users.", ActionURL: actionURL, ActionLabel: "Sign in"}
	case LoggedOut:
		return Content{Heading: "You are signed out", Message: "Your session on this site has ended.", ActionURL: actionURL, ActionLabel: "Sign in again"}
	case Failed:
		return Content{Heading: "Sign-in failed", Message: "Signing in could not be completed. Please try again.", ActionURL: actionURL, ActionLabel: "Try again"}
	}
	return Content{Heading: "Access denied", Message: "Your account is not allowed to view this page. If you think it should be, ask the site's administrators for access.", ActionURL: actionURL, ActionLabel: "Sign in with another account"}
}

// Write renders a page with status and headers that keep it out of shared caches
// (unless the caller set Cache-Control) and forbid framing.
func (s *Set) Write(w http.ResponseWriter, status int, c Content) {
	page := render(s.brand, c)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(page)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'none'; form-action 'self'")
	h.Set("Referrer-Policy", "no-referrer")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	w.Write([]byte(page))
}
