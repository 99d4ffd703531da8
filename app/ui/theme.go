package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// variantTheme is the default theme held to one variant (light or dark).
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

// applyTheme sets the theme: "light", "dark", or the system's.
func applyTheme(a fyne.App, name string) {
	switch name {
	case "light":
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantLight})
	case "dark":
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantDark})
	default:
		a.Settings().SetTheme(theme.DefaultTheme())
	}
}

// colorFn picks a colour from the theme in use.
type colorFn func(th fyne.Theme, v fyne.ThemeVariant) color.Color

// themeColor is the theme's colour n.
func themeColor(n fyne.ThemeColorName) colorFn {
	return func(th fyne.Theme, v fyne.ThemeVariant) color.Color { return th.Color(n, v) }
}

// isDark says whether the theme draws on a dark background, whatever
// variant the system asks for (variantTheme holds one).
func isDark(th fyne.Theme, v fyne.ThemeVariant) bool {
	r, g, b, _ := th.Color(theme.ColorNameBackground, v).RGBA()
	return 299*r+587*g+114*b < 500*0xffff
}

// dimColor veils an image in a dark theme with the background's colour,
// so that a white chart does not glare; in a light theme it is clear.
func dimColor(th fyne.Theme, v fyne.ThemeVariant) color.Color {
	if !isDark(th, v) {
		return color.Transparent
	}
	r, g, b, _ := th.Color(theme.ColorNameBackground, v).RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x2c}
}

// surface is a (rounded) rectangle of a theme colour, painted again when
// the theme changes: code blocks' backgrounds, table rules, image cards.
type surface struct {
	widget.BaseWidget
	fill   colorFn
	radius float32
	min    fyne.Size
}

func newSurface(fill colorFn, radius float32) *surface {
	s := &surface{fill: fill, radius: radius}
	s.ExtendBaseWidget(s)
	return s
}

// color is the surface's colour in the theme now in use.
func (s *surface) color() color.Color {
	return s.fill(s.Theme(), fyne.CurrentApp().Settings().ThemeVariant())
}

func (s *surface) CreateRenderer() fyne.WidgetRenderer {
	r := &surfaceRenderer{s: s, rect: canvas.NewRectangle(color.Transparent)}
	r.Refresh()
	return r
}

type surfaceRenderer struct {
	s    *surface
	rect *canvas.Rectangle
}

func (r *surfaceRenderer) Layout(size fyne.Size)        { r.rect.Resize(size) }
func (r *surfaceRenderer) MinSize() fyne.Size           { return r.s.min }
func (r *surfaceRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.rect} }
func (r *surfaceRenderer) Destroy()                     {}
func (r *surfaceRenderer) Refresh() {
	r.rect.FillColor = r.s.color()
	r.rect.CornerRadius = r.s.radius
	r.rect.Refresh()
}
