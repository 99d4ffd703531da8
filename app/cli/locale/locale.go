// Package locale gives Fyne a locale it can read. Fyne's lang package
// reads the locale in its init, before main runs, through go-locale: with
// LANG (or LC_ALL, LC_MESSAGES) set to C.UTF-8, the default of many
// containers and minimal systems, it logs "Error parsing user locale C"
// on every start of plotline, whatever the command. go-locale reads
// LANGUAGE in that case, so this package sets LANGUAGE=en there (only
// there, and only when it is unset): English for Fyne, as C means, and
// for the programs Plotline starts, whose messages in C are English too.
//
// It works because Go initialises it before Fyne's lang package: packages
// are initialised in the order of their import paths, each as soon as its
// own imports are; this one imports only os and strings, while lang waits
// for text/template, which sorts after plotline/…. main imports it;
// TestHelpIsQuiet checks the outcome.
package locale

import (
	"os"
	"strings"
)

func init() { Fix(os.Getenv, os.Setenv) }

// Fix sets LANGUAGE=en when the locale in effect is C or POSIX with an
// encoding (C.UTF-8) and LANGUAGE is unset.
func Fix(getenv func(string) string, setenv func(string, string) error) {
	if getenv("LANGUAGE") != "" {
		return
	}
	var loc string
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = getenv(k); loc != "" {
			break
		}
	}
	lang := loc
	if i := strings.IndexAny(lang, ".@"); i >= 0 {
		lang = lang[:i]
	}
	if lang != loc && (lang == "C" || lang == "POSIX") {
		setenv("LANGUAGE", "en")
	}
}
