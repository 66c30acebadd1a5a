// Package pages renders gatehouse's built-in pages (sign in, access denied, signed out,
// sign-in failed): plain HTML with embedded CSS, no scripts and no external fonts, so
// they work without JavaScript and leak no requests to third parties. They are branded
// with a title, a logo URL and three colours from the configuration.
//
// Pages never show causes: the caller logs the cause and passes a fixed, public message.
package pages

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

//go:embed page.html
var pageHTML string

//go:embed style.css
var styleCSS string

var tmpl = template.Must(template.New("page").Parse(pageHTML))

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

// Brand is the validated branding of a set of pages.
type Brand struct {
	Title, LogoURL            string
	Primary, Background, Text template.CSS
}

// Set renders pages with one brand. The zero value is not usable; use New.
type Set struct{ brand Brand }

// New builds a page set from the (validated) configuration; empty fields get defaults.
func New(cfg config.Pages) *Set {
	b := Brand{Title: cfg.Title, LogoURL: cfg.LogoURL, Primary: DefaultPrimary, Background: DefaultBackground, Text: DefaultText}
	if b.Title == "" {
		b.Title = DefaultTitle
	}
	// Colours are validated as hex (#rgb, #rrggbb), which is what makes them safe to
	// mark as CSS here.
	if cfg.PrimaryColor != "" {
		b.Primary = template.CSS(cfg.PrimaryColor)
	}
	if cfg.BackgroundColor != "" {
		b.Background = template.CSS(cfg.BackgroundColor)
	}
	if cfg.TextColor != "" {
		b.Text = template.CSS(cfg.TextColor)
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
	var buf bytes.Buffer
	data := struct {
		Content
		Brand Brand
		CSS   template.CSS
	}{c, s.brand, template.CSS(styleCSS)}
	if err := tmpl.Execute(&buf, data); err != nil {
		// The template is fixed and tested; a failure here is a bug. Say so plainly.
		http.Error(w, fmt.Sprintf("%d %s", status, http.StatusText(status)), status)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'none'; form-action 'self'")
	h.Set("Referrer-Policy", "no-referrer")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
