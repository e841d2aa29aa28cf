package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit are stamped at build time (make release):
//
//	-ldflags "-X main.version=v1.2.3 -X main.commit=0123456789ab..."
//
// Without them, the module's version (go install ...@v1.2.3) and the
// revision Go records from the repository's checkout are used. commit
// matters where Go sees no repository (a container build without .git).
var version, commit = "", ""

func runVersion(_ context.Context, a *app, args []string) error {
	fs := newFlagSet(a, "version", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, versionString())
	return nil
}

// versionString names the release, or the commit for a development build.
func versionString() string {
	var settings []debug.BuildSetting
	mainVersion := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		settings, mainVersion = bi.Settings, bi.Main.Version
	}
	return formatVersion(version, commit, mainVersion, settings)
}

// formatVersion builds roster version's line from the stamped version and
// commit (either may be empty) and what Go recorded in the binary: the
// main module's version and the build settings (vcs.revision,
// vcs.modified). A stamped value wins; "modified" is said only of the
// revision Go recorded, the one whose checkout it saw.
func formatVersion(stampedVersion, stampedCommit, mainVersion string, settings []debug.BuildSetting) string {
	v, c, dirty := stampedVersion, stampedCommit, false
	if v == "" && mainVersion != "" && mainVersion != "(devel)" {
		v = mainVersion
	}
	revision, modified := "", false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if c == "" {
		c = revision
	}
	dirty = modified && revision != "" && revision == c
	if v == "" {
		v = "dev"
	}
	out := "roster " + v
	if c != "" {
		out += " (commit " + c[:min(12, len(c))]
		if dirty {
			out += ", modified"
		}
		out += ")"
	}
	return fmt.Sprintf("%s %s %s/%s", out, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
