package labdata

// name is a personal name as the directory shows it, plus the ASCII form
// that logins are built from. Logins stay ASCII, as most sites keep
// sAMAccountName, while names carry accents and non-Latin scripts.
type name struct {
	native string
	ascii  string
}

var givenNames = []name{
	{"James", "james"}, {"Mary", "mary"}, {"Olivia", "olivia"}, {"Lucas", "lucas"},
	{"Emma", "emma"}, {"Noah", "noah"}, {"Ahmed", "ahmed"}, {"Priya", "priya"},
	{"Sophie", "sophie"}, {"Thomas", "thomas"}, {"Grace", "grace"}, {"Daniel", "daniel"},
	{"Hannah", "hannah"}, {"Samuel", "samuel"}, {"Laura", "laura"}, {"Peter", "peter"},
	// Accented Latin.
	{"Élodie", "elodie"}, {"Zoë", "zoe"}, {"Søren", "soren"}, {"Jürgen", "jurgen"},
	{"Inês", "ines"}, {"Łukasz", "lukasz"}, {"Ágnes", "agnes"}, {"François", "francois"},
	{"Björn", "bjorn"}, {"Çağla", "cagla"},
	// Non-Latin scripts.
	{"Γιώργος", "giorgos"}, {"Дмитрий", "dmitry"}, {"さくら", "sakura"}, {"伟", "wei"},
	{"محمد", "mohammed"}, {"민준", "minjun"},
}

var surnames = []name{
	{"Smith", "smith"}, {"Dupont", "dupont"}, {"Garcia", "garcia"}, {"Johnson", "johnson"},
	{"Kowalski", "kowalski"}, {"Rossi", "rossi"}, {"Jansen", "jansen"}, {"Brown", "brown"},
	{"Martin", "martin"}, {"Taylor", "taylor"}, {"Wilson", "wilson"}, {"Lee", "lee"},
	{"O'Brien", "obrien"}, {"Van der Berg", "vanderberg"},
	// Accented Latin.
	{"Müller", "muller"}, {"Núñez", "nunez"}, {"Lefèvre", "lefevre"}, {"Ødegård", "odegard"},
	{"Nguyễn", "nguyen"}, {"Dvořák", "dvorak"}, {"Şahin", "sahin"},
	// Non-Latin scripts.
	{"Παπαδόπουλος", "papadopoulos"}, {"Иванова", "ivanova"}, {"佐藤", "sato"},
	{"王", "wang"}, {"حداد", "haddad"}, {"김", "kim"}, {"כהן", "cohen"},
}

// departments doubles as cost centers: the code is what finance books
// printing against, the name is what people see.
var departments = []struct{ name, costCenter string }{
	{"Finance", "CC-1100"},
	{"Sales", "CC-1200"},
	{"Engineering", "CC-1300"},
	{"Human Resources", "CC-1400"},
	{"Research & Development", "CC-1500"},
	{"Comptabilité", "CC-1600"},
	{"Logistics", "CC-1700"},
	{"Marketing", "CC-1800"},
}
