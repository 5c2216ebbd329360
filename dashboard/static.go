package dashboard

import (
	"bytes"
	"embed"
	"html"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
)

//go:embed web
var webFiles embed.FS

// pageHandler serves the built-in live page: index.html with the namespace
// filled in, and its script and style sheet.
func pageHandler(namespace string) http.Handler {
	index, err := webFiles.ReadFile("web/index.html")
	if err != nil {
		panic("eventpub/dashboard: embedded page missing: " + err.Error())
	}
	title := "eventpub"
	if namespace != "" {
		title = namespace
	}
	index = bytes.ReplaceAll(index, []byte("{{NAMESPACE}}"), []byte(html.EscapeString(namespace)))
	index = bytes.ReplaceAll(index, []byte("{{TITLE}}"), []byte(html.EscapeString(title)))
	sub, _ := fs.Sub(webFiles, "web")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		switch req.URL.Path {
		case "/", "/index.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(index)
		case "/app.js", "/app.css":
			files.ServeHTTP(w, req)
		default:
			http.NotFound(w, req)
		}
	})
}

// spaHandler serves the files of dir, and dir/index.html for any path
// that names no file, as a single-page frontend's router expects.
func spaHandler(dir string) http.Handler {
	fsys := os.DirFS(dir)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+req.URL.Path), "/")
		if name != "" && name != "index.html" {
			if st, err := fs.Stat(fsys, name); err == nil && st.Mode().IsRegular() {
				http.ServeFileFS(w, req, fsys, name)
				return
			}
		}
		f, err := fsys.Open("index.html")
		if err != nil {
			http.Error(w, "index.html not found in the static directory", http.StatusNotFound)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, req, "index.html", st.ModTime(), f.(io.ReadSeeker))
	})
}
