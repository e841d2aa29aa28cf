module github.com/rosterhq/roster

go 1.26.8
