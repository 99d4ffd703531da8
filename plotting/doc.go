// Package plotting will hold Plotline's native tables and charts, drawn
// with gonum/plot from CSV and XLSX files without starting Python: type
// inference, previews and quick charts. It is empty until the window and
// the engine's table preview need it; cells run in the interpreter.
package plotting
