package graphlab

import (
	"strings"

	"github.com/rosterhq/roster/lab/labdata"
)

// PeopleOf returns the lab's generated people as Entra ID users, the
// same people the AD lab holds (domain is its DNS domain): the object ID
// the AD lab's msDS-aadObjectId names (labdata.EntraID), the UPN, mail,
// names, department, cost centre (employeeOrgData), employee ID,
// accountEnabled, and the badges and print code in extension attributes
// 5 and 6, as a tenant without a card attribute keeps them.
func PeopleOf(d *labdata.Data, domain string) []map[string]any {
	users := make([]map[string]any, 0, len(d.Users))
	for i := range d.Users {
		u := &d.Users[i]
		o := map[string]any{
			"id": d.EntraID(u), "userPrincipalName": u.Login + "@" + domain, "displayName": u.Display,
			"givenName": u.Given, "surname": u.Surname, "department": u.Department, "employeeId": u.EmployeeID,
			"accountEnabled": !u.Disabled, "onPremisesSamAccountName": u.Login,
			"employeeOrgData": map[string]any{"costCenter": u.CostCenter},
		}
		if m := u.MailAt(domain); m != "" {
			o["mail"] = m
		}
		ext := map[string]any{}
		if len(u.Cards) > 0 {
			ext["extensionAttribute5"] = strings.Join(u.Cards, ";")
		}
		if u.PrintCode != "" {
			ext["extensionAttribute6"] = u.PrintCode
		}
		o["onPremisesExtensionAttributes"] = ext
		users = append(users, o)
	}
	return users
}

// GroupsOf returns the lab's groups as Entra ID groups: members by
// object ID, nested groups among them.
func GroupsOf(d *labdata.Data) []Group {
	byLogin := map[string]*labdata.Account{}
	for i := range d.Users {
		byLogin[d.Users[i].Login] = &d.Users[i]
	}
	id := func(name string) string { return d.EntraID(&labdata.Account{Login: "group|" + name}) }
	out := make([]Group, 0, len(d.Groups))
	for _, g := range d.Groups {
		grp := Group{ID: id(g.Name), Name: g.Name}
		for _, m := range g.Members {
			if u := byLogin[m]; u != nil {
				grp.Members = append(grp.Members, d.EntraID(u))
			}
		}
		for _, n := range g.Nested {
			grp.Members = append(grp.Members, id(n))
		}
		out = append(out, grp)
	}
	return out
}
