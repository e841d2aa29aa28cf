package ldap

// Every read roster makes of a directory goes through this file, which
// owns one rule: a read is complete only when the directory said so.
//
//   - A search is complete when its SearchResultDone arrived with
//     success. For a paged search that answer must also carry the paged
//     results control: its empty cookie is the only proof that no page
//     follows.
//   - A connection that closes, an EOF, a reset, a TLS failure, a missing
//     SearchResultDone or a timeout is an error that names what happened;
//     the sync run fails and removes nobody.
//
// go-ldap's asynchronous search ends without an error when the connection
// is already closing as it starts (a directory that hung up between two
// pages), and shows a SearchResultDone only when it carries controls. So
// a streamed read here must see the control it asked the directory to
// answer (paging, content sync) in the final message, and an unpaged read
// uses go-ldap's synchronous search, which returns without an error only
// after a SearchResultDone with success. The package's test
// TestOnlyReadGoSearches fails when another file calls go-ldap's search
// functions, so a new read cannot skip the rule.

import (
	"context"
	"errors"
	"fmt"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// errSilent marks a read cancelled because the directory said nothing
// for the request timeout.
var errSilent = errors.New("the directory went silent")

// streamed sends req, whose controls ask the directory for an answer
// control of type proof in its SearchResultDone (paged results, content
// sync), and hands every other message (entries, referrals, intermediate
// responses) to each as it arrives. It returns the proof control, and no
// error only when that control arrived in a successful SearchResultDone.
//
// The request timeout is a silence timeout: it runs while roster waits
// for the directory and stops while each works, so a slow consumer is
// never blamed on the server. what names the request in errors ("page 3
// of the search of OU=Staff,DC=corp,DC=test").
//
// Errors: those of each, unchanged; ctx's error when ctx ends; otherwise
// readError's: the directory's result code, or the way the connection
// failed, or errIncomplete.
func (c *Conn) streamed(ctx context.Context, base, what string, req *goldap.SearchRequest, proof string, each func(goldap.Response) error) (goldap.Control, error) {
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	silence := time.AfterFunc(c.timeout, func() { cancel(errSilent) })
	defer silence.Stop()
	r := c.conn.SearchAsync(pctx, req, MaxPageSize)
	var done goldap.Control
	for r.Next() {
		if done != nil {
			continue // nothing may follow the SearchResultDone; go-ldap ends here
		}
		if !silence.Stop() {
			break // the silence timer fired while this message arrived
		}
		if r.Entry() == nil && r.Referral() == "" {
			if p := goldap.FindControl(r.Controls(), proof); p != nil {
				done = p
				continue
			}
		}
		if err := each(r); err != nil {
			return nil, err
		}
		silence.Reset(c.timeout)
	}
	// SearchAsync ends quietly when its context ends: check it first.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if context.Cause(pctx) == errSilent {
		return nil, c.readError(base, what, errSilent)
	}
	if err := r.Err(); err != nil {
		return nil, c.readError(base, what, err)
	}
	if done == nil {
		return nil, c.readError(base, what, errIncomplete)
	}
	return done, nil
}

// single runs an unpaged request, such as a read of one entry, and
// returns its entries only when the directory's SearchResultDone arrived
// with success: go-ldap's synchronous Search returns without an error
// only then. A timeout or the end of ctx closes the connection, which no
// longer knows where its answers stand.
//
// Errors: as streamed.
func (c *Conn) single(ctx context.Context, base, what string, req *goldap.SearchRequest) ([]*goldap.Entry, error) {
	type answer struct {
		res *goldap.SearchResult
		err error
	}
	got := make(chan answer, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil { // a malformed answer go-ldap did not expect
				got <- answer{err: fmt.Errorf("the directory's answer could not be decoded: %v", p)}
			}
		}()
		res, err := c.conn.Search(req)
		got <- answer{res, err}
	}()
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case a := <-got:
		if a.err != nil {
			return nil, c.readError(base, what, a.err)
		}
		return a.res.Entries, nil
	case <-timer.C:
		c.conn.Close()
		return nil, c.readError(base, what, errSilent)
	case <-ctx.Done():
		c.conn.Close()
		return nil, ctx.Err()
	}
}

// abandonPaging tells the server to release a paged result early, by
// sending the cookie with a page size of 0 (RFC 2696). Best effort, and
// bounded: a server that does not answer within abandonWait is left
// alone. It reads nothing that counts.
func (c *Conn) abandonPaging(req SearchRequest, paging *goldap.ControlPaging) {
	ctx, cancel := context.WithTimeout(context.Background(), abandonWait)
	defer cancel()
	stop := &goldap.ControlPaging{PagingSize: 0, Cookie: paging.Cookie}
	r := c.conn.SearchAsync(ctx, c.request(req, stop), 1)
	for r.Next() {
	}
}

const abandonWait = 5 * time.Second
