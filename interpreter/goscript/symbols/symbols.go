// Package symbols holds the standard library symbols that local function
// handlers may use, for yaegi: the packages of goscript.Allowed, and no
// other. yaegi's own stdlib package wraps every standard package (os/exec,
// net and syscall among them) and takes a few milliseconds to start in
// every Plotline process; this one holds only what a handler may import,
// so a handler cannot reach any other package, whatever the import check
// lets through.
//
// The files but this one are made by `yaegi extract`; make them again
// after a Go upgrade with go generate, and keep the list as
// goscript.Allowed has it.
package symbols

//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract bufio bytes cmp container/heap container/list context crypto/sha256 encoding/base64 encoding/csv encoding/hex encoding/json errors fmt hash/crc32 hash/fnv html io maps math math/big math/bits math/cmplx math/rand math/rand/v2 regexp slices sort strconv strings sync text/tabwriter time unicode unicode/utf16 unicode/utf8

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
)

// Symbols are the packages' symbols, by "import/path/name".
var Symbols = map[string]map[string]reflect.Value{}

// MapTypes are the functions that take an interface{} and treat a value
// that implements one of the types given specially (a fmt.Stringer
// printed, a json.Marshaler encoded): yaegi wraps an interpreted value in
// those interfaces for them.
var MapTypes = map[reflect.Value][]reflect.Type{}

func init() {
	Symbols["."] = map[string]reflect.Value{"MapTypes": reflect.ValueOf(MapTypes)}
	printing := []reflect.Type{
		reflect.TypeFor[fmt.Formatter](),
		reflect.TypeFor[fmt.Stringer](),
	}
	for _, f := range []any{fmt.Errorf, fmt.Fprint, fmt.Fprintf, fmt.Fprintln, fmt.Print, fmt.Printf,
		fmt.Println, fmt.Sprint, fmt.Sprintf, fmt.Sprintln, fmt.Append, fmt.Appendf, fmt.Appendln} {
		MapTypes[reflect.ValueOf(f)] = printing
	}
	MapTypes[reflect.ValueOf(json.Marshal)] = []reflect.Type{
		reflect.TypeFor[json.Marshaler](),
		reflect.TypeFor[encoding.TextMarshaler](),
	}
	MapTypes[reflect.ValueOf(json.MarshalIndent)] = MapTypes[reflect.ValueOf(json.Marshal)]
	MapTypes[reflect.ValueOf(json.Unmarshal)] = []reflect.Type{
		reflect.TypeFor[json.Unmarshaler](),
		reflect.TypeFor[encoding.TextUnmarshaler](),
	}
}
