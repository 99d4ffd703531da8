package engine

import (
	"encoding/json"
	"fmt"
	"plotline/app"
	"regexp"
	"unicode/utf8"
)

// invalid is a refused request: the API answers it with 400 and param.
func invalid(param, format string, a ...any) error {
	return &app.InputError{Param: param, Message: fmt.Sprintf(format, a...)}
}

func checkMetadata(m *app.Metadata) error {
	if m == nil {
		return nil
	}
	if len(*m) > 16 {
		return invalid("metadata", "metadata can have at most 16 keys, it has %d", len(*m))
	}
	// Characters, not bytes: 512 × "é" is a value the API takes.
	for k, v := range *m {
		if utf8.RuneCountInString(k) > 64 {
			return invalid("metadata", "metadata key %q is longer than 64 characters", k)
		}
		if utf8.RuneCountInString(v) > 512 {
			return invalid("metadata", "the value of metadata key %q is longer than 512 characters", k)
		}
	}
	return nil
}

var functionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func (e *Engine) checkTools(param string, tools []app.Tool) error {
	if len(tools) > 128 {
		return invalid(param, "at most 128 tools are allowed")
	}
	names := map[string]bool{}
	hasCode := false
	for i, t := range tools {
		p := fmt.Sprintf("%s[%d]", param, i)
		switch t.Type {
		case app.ToolCodeInterpreter:
			hasCode = true
		case app.ToolFileSearch:
		case app.ToolFunction:
			if t.Function == nil {
				return invalid(p+".function", "a function tool needs a function")
			}
			if !functionName.MatchString(t.Function.Name) {
				return invalid(p+".function.name", "invalid function name %q: use 1 to 64 letters, digits, _ or -", t.Function.Name)
			}
			if names[t.Function.Name] {
				return invalid(p+".function.name", "duplicate function name %q", t.Function.Name)
			}
			names[t.Function.Name] = true
			if len(t.Function.Parameters) > 0 {
				var v map[string]any
				if json.Unmarshal(t.Function.Parameters, &v) != nil {
					return invalid(p+".function.parameters", "function parameters must be a JSON Schema object")
				}
			}
		default:
			return invalid(p+".type", "invalid tool type %q: expected code_interpreter, file_search or function", t.Type)
		}
	}
	if code := e.cfg.Code.Name; hasCode && names[code] {
		return invalid(param, "a function named %q cannot be used with code_interpreter, which provides it", code)
	}
	return nil
}

func checkSampling(temperature, topP *float64) error {
	if temperature != nil && (*temperature < 0 || *temperature > 2) {
		return invalid("temperature", "temperature must be between 0 and 2")
	}
	if topP != nil && (*topP < 0 || *topP > 1) {
		return invalid("top_p", "top_p must be between 0 and 1")
	}
	return nil
}

// checkResponseFormat accepts "auto" or an object with a known type.
func checkResponseFormat(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "auto" {
			return nil
		}
		return invalid("response_format", "response_format must be \"auto\" or an object")
	}
	var o struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &o) != nil || (o.Type != "text" && o.Type != "json_object" && o.Type != "json_schema") {
		return invalid("response_format", "response_format type must be text, json_object or json_schema")
	}
	return nil
}

// parseContent turns a message's input content into content parts.
func parseContent(raw json.RawMessage) ([]app.Content, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, invalid("content", "Missing required parameter: 'content'.")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if !utf8.ValidString(s) {
			return nil, invalid("content", "content must be valid UTF-8")
		}
		// As the hosted API: an empty message is refused, not stored.
		if s == "" {
			return nil, invalid("content", "Message content must be non-empty.")
		}
		return []app.Content{{Type: "text", Text: &app.Text{Value: s, Annotations: []app.Annotation{}}}}, nil
	}
	var parts []struct {
		Type      string         `json:"type"`
		Text      *string        `json:"text"`
		ImageFile *app.ImageFile `json:"image_file"`
		ImageURL  *struct {
			URL string `json:"url"`
		} `json:"image_url"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, invalid("content", "content must be a string or an array of content parts")
	}
	if len(parts) == 0 {
		return nil, invalid("content", "content must not be empty")
	}
	var out []app.Content
	for i, p := range parts {
		switch {
		case p.Type == "text" && p.Text != nil && *p.Text == "":
			return nil, invalid(fmt.Sprintf("content[%d].text", i), "Message content must be non-empty.")
		case p.Type == "text" && p.Text != nil:
			out = append(out, app.Content{Type: "text", Text: &app.Text{Value: *p.Text, Annotations: []app.Annotation{}}})
		case p.Type == "image_file" && p.ImageFile != nil && p.ImageFile.FileID != "":
			out = append(out, app.Content{Type: "image_file", ImageFile: p.ImageFile})
		case p.Type == "image_url" && p.ImageURL != nil:
			out = append(out, app.Content{Type: "text", Text: &app.Text{Value: "[image: " + p.ImageURL.URL + "]", Annotations: []app.Annotation{}}})
		default:
			return nil, invalid(fmt.Sprintf("content[%d]", i), "invalid content part: expected text, image_file or image_url")
		}
	}
	return out, nil
}
