// Package templates embeds the pages, partials, static files and the
// translations, because //go:embed cannot reach outside its own directory.
package templates

import "embed"

// FS holds layouts/, partials/, pages/, static/ and i18n/.
//
//go:embed layouts partials pages static i18n
var FS embed.FS
