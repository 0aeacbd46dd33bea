"""Every UI text, in Romanian (default) and English: one table, one place to translate.

Each row is ``key: (Romanian, English)``, so a missing translation is a
syntax error rather than a silent fallback.
"""

from __future__ import annotations

_TEXTS: dict[str, tuple[str, str]] = {
    # app and navigation
    "app.title": ("Sesizări", "Sesizari"),
    "nav.live_map": ("Harta sesizărilor", "Incident map"),
    "nav.report": ("Raportează o problemă", "Report a problem"),
    "nav.track": ("Urmărește sesizarea", "Track a report"),
    "nav.login": ("Autentificare personal", "Staff sign-in"),
    "access.denied": (
        "Pagina aceasta nu este deschisă rolului dumneavoastră ({role}). Cereți-o"
        " administratorului orașului dacă aveți nevoie de ea.",
        "This page is not open to your role ({role}). Ask the city's administrator"
        " if you need it.",
    ),
    "nav.logout": ("Ieșire", "Sign out"),
    "nav.queue": ("Lucrări de făcut", "Work queue"),
    "nav.incident": ("Fișa sesizării", "Incident detail"),
    "nav.dispatch": ("Dispecerat", "Dispatcher desk"),
    "nav.admin": ("Administrare", "Administration"),
    "nav.feeds": ("Importuri de date", "Data feeds"),
    "nav.account": ("Contul meu", "My account"),
    "nav.public": ("Cetățeni", "Citizens"),
    "nav.staff": ("Personal", "Staff"),
    "lang.label": ("Limba", "Language"),
    "db.unavailable": (
        "Baza de date nu răspunde acum. Reîncărcați pagina peste puțin timp; dacă"
        " mesajul rămâne, administratorul vede cauza cu `python -m sesizari check`.",
        "The database is not answering right now. Reload the page shortly; if this"
        " stays, an administrator sees why with `python -m sesizari check`.",
    ),
    "city.label": ("Oraș", "City"),
    "city.none": (
        "Nu există încă niciun oraș în baza de date. Rulați `make run` pentru demo.",
        "There is no city in the database yet. Run `make run` for the demo.",
    ),
    "signed_in_as": ("Conectat ca {name} ({role})", "Signed in as {name} ({role})"),
    # live map placeholder
    "map.title": ("Sesizări pe hartă ({city})", "Incidents on the map ({city})"),
    "map.caption": (
        "Densitatea sesizărilor pe hexagoane de {size} m, calculată pe server.",
        "Incident density on {size} m hexagons, computed on the server.",
    ),
    "map.hex_size": ("Mărimea hexagonului (m)", "Hexagon size (m)"),
    "map.cells": ("Hexagoane afișate", "Hexagons shown"),
    "map.total": ("Sesizări în total", "Incidents in total"),
    "map.offline": (
        "Harta de bază nu are nevoie de internet; datele apar pe un fundal simplu.",
        "The base map needs no internet; the data shows on a plain background.",
    ),
    # report
    "report.title": ("Raportează o problemă", "Report a problem"),
    "report.where": (
        "1. Unde? Faceți clic pe hartă sau introduceți coordonatele.",
        "1. Where? Click the map or type the coordinates.",
    ),
    "report.locate": ("Folosește locația mea", "Use my location"),
    "report.locate_failed": (
        "Locația nu a putut fi citită; alegeți punctul pe hartă.",
        "The location could not be read; choose the point on the map.",
    ),
    "report.lat": ("Latitudine", "Latitude"),
    "report.lon": ("Longitudine", "Longitude"),
    "report.no_point": (
        "Alegeți locul pe hartă (sau introduceți coordonatele).",
        "Choose the place on the map (or type the coordinates).",
    ),
    "report.what": ("2. Ce problemă?", "2. What is the problem?"),
    "report.category": ("Categorie", "Category"),
    "report.choose_category": ("Alegeți categoria", "Choose the category"),
    "report.no_category": (
        "Alegeți categoria problemei: de ea depinde compartimentul care o rezolvă.",
        "Choose the category of the problem: it decides which department fixes it.",
    ),
    "report.not_published": ("(descriere nepublicată)", "(description not published)"),
    "report.nearby": (
        "Există deja sesizări deschise de același tip la cel mult 50 m (ultimele 30 de zile). "
        "Este una dintre ele?",
        "There are open reports of the same kind within 50 m (last 30 days). Is it one of these?",
    ),
    "incident.supports": (
        "Alte semnalări ale aceleiași probleme: {count} ({by}).",
        "Other reports of the same problem: {count} ({by}).",
    ),
    "incident.duplicates": (
        "Marcate ca dubluri ale acesteia: {numbers}.",
        "Marked as duplicates of this one: {numbers}.",
    ),
    "track.supporters": (
        "Alte semnalări ale aceleiași probleme: {count}.",
        "Other reports of the same problem: {count}.",
    ),
    "dispatch.nearby": (
        "Sesizări deschise de același tip la cel mult 50 m (ultimele 30 de zile). Dacă apelul"
        " este despre una dintre ele, adăugați-l la ea în loc să înregistrați una nouă: spuneți"
        " apelantului numărul ei.",
        "Open reports of the same kind within 50 m (last 30 days). If the call is about one of"
        " them, add it to that report instead of filing a new one: give the caller its number.",
    ),
    "dispatch.add_to": ("Adaugă la {number}", "Add to {number}"),
    "dispatch.added": (
        "Apelul a fost adăugat la sesizarea {number} (semnalări în plus până acum: {count})."
        " Spuneți apelantului numărul ei.",
        "The call was added to report {number} (more reports so far: {count})."
        " Give the caller its number.",
    ),
    "report.support": ("Susțin {number}", "Support {number}"),
    "report.supported": (
        "Mulțumim! Ați susținut sesizarea {number} (susținători până acum: {count}).",
        "Thank you! You supported report {number} (supporters so far: {count}).",
    ),
    "report.details": ("3. Detalii", "3. Details"),
    "report.description": ("Descriere (obligatorie)", "Description (required)"),
    "report.address": ("Adresă sau reper (opțional)", "Address or landmark (optional)"),
    "report.photos": (
        "Fotografii (cel mult 5; JPEG, PNG, WebP)",
        "Photos (up to 5; JPEG, PNG, WebP)",
    ),
    "report.too_many_photos": (
        "Cel mult 5 fotografii; au fost păstrate primele 5.",
        "At most 5 photos; the first 5 were kept.",
    ),
    "report.contact": (
        "Date de contact (opționale, nu sunt publicate)",
        "Contact details (optional, never published)",
    ),
    "report.name": ("Nume", "Name"),
    "report.phone": ("Telefon", "Phone"),
    "report.email": ("E-mail", "E-mail"),
    "report.email_help": (
        "Vă scriem aici numărul sesizării și fiecare pas: preluare, rezolvare, răspuns.",
        "We write to you here with the report's number and every step: taken up, fixed, answer.",
    ),
    "report.consent": (
        "Sunt de acord ca primăria să-mi folosească datele de contact doar pentru această "
        "sesizare, inclusiv ca să-mi scrie despre ea (GDPR).",
        "I agree that the city hall uses my contact details only for this report, including to"
        " write to me about it (GDPR).",
    ),
    "report.honeypot": ("Site web", "Website"),
    "report.submit": ("Trimite sesizarea", "Send the report"),
    "report.done": (
        "Sesizarea a fost înregistrată cu numărul {number} și trimisă la: {department}.",
        "Your report is registered as {number} and was sent to: {department}.",
    ),
    "report.track_link": ("Urmăriți-o aici: {link}", "Track it here: {link}"),
    "report.photo_rejected": (
        "Fotografia {name} nu a fost acceptată: {reason}. Restul sesizării a fost păstrat.",
        "Photo {name} was not accepted: {reason}. The rest of the report was kept.",
    ),
    # track
    "track.title": ("Urmărește sesizarea", "Track a report"),
    "track.number": ("Numărul de înregistrare", "Registration number"),
    "track.status": ("Stare", "Status"),
    "track.department": ("Compartiment responsabil", "Responsible department"),
    "track.category": ("Categorie", "Category"),
    "track.created_at": ("Înregistrată la: {when}", "Registered on: {when}"),
    "track.timeline": ("Istoric public", "Public history"),
    "track.resolution": ("Cum a fost rezolvată", "How it was fixed"),
    "track.photos": ("Fotografii de la rezolvare", "Photos of the fix"),
    "track.duplicate": ("Dublură a sesizării {number}", "Duplicate of report {number}"),
    # statuses and events
    "status.new": ("Nouă", "New"),
    "status.acknowledged": ("Preluată", "Acknowledged"),
    "status.in_progress": ("În lucru", "In progress"),
    "status.resolved": ("Rezolvată", "Resolved"),
    "status.closed": ("Închisă", "Closed"),
    "status.rejected": ("Respinsă", "Rejected"),
    "status.duplicate": ("Dublură", "Duplicate"),
    "track.status_forwarded": ("Redirecționată", "Forwarded"),
    "event.created": ("Înregistrată", "Registered"),
    "event.acknowledged": ("Preluată", "Acknowledged"),
    "event.started": ("Lucrare începută", "Work started"),
    "event.resolved": ("Rezolvată", "Resolved"),
    "event.closed": ("Închisă", "Closed"),
    "event.rejected": ("Respinsă", "Rejected"),
    "event.duplicate": ("Marcată ca dublură", "Marked as duplicate"),
    "event.reopened": ("Redeschisă", "Reopened"),
    "event.rerouted": ("Redirecționată", "Re-routed"),
    "event.public_update": ("Informare", "Update"),
    "event.note": ("Notă internă", "Internal note"),
    "event.assigned": ("Repartizată", "Assigned"),
    "event.updated": ("Actualizată din sursă", "Updated from source"),
    "col.when": ("Data", "When"),
    "col.received_at": ("Primit", "Received"),
    "col.sender_name": ("De la", "From"),
    "col.subject": ("Subiect", "Subject"),
    "col.photos": ("Fotografii", "Pictures"),
    "col.refused": ("Alte atașamente", "Other attachments"),
    "col.what": ("Ce", "What"),
    "col.text": ("Text", "Text"),
    "col.who": ("Cine", "Who"),
    # staff sign-in
    "login.title": ("Autentificare personal", "Staff sign-in"),
    "login.username": ("Utilizator", "Username"),
    "login.password": ("Parolă", "Password"),
    "login.submit": ("Intră", "Sign in"),
    "login.failed": ("Utilizator sau parolă greșită.", "Wrong username or password."),
    "account.title": ("Contul meu", "My account"),
    "account.password": ("Schimbarea parolei", "Changing the password"),
    "account.current": ("Parola de acum", "Current password"),
    "account.new": ("Parola nouă", "New password"),
    "account.repeat": ("Parola nouă, încă o dată", "New password, once more"),
    "account.note": (
        "Parola nouă vă scoate din aplicație pe celelalte dispozitive; aici rămâneți conectat.",
        "The new password signs you out on other devices; here you stay signed in.",
    ),
    "account.change": ("Schimbă parola", "Change the password"),
    "account.changed": ("Parola a fost schimbată.", "The password was changed."),
    "account.history": ("Istoricul contului", "The account's history"),
    "account.created": ("Cont creat", "Account created"),
    "account.email_set": ("adresă de e-mail nouă", "new e-mail address"),
    "account.password_set": ("parolă nouă", "new password"),
    "account.by_system": ("Linia de comandă", "The command line"),
    "account.yes": ("da", "yes"),
    "account.no": ("nu", "no"),
    # queue
    # feed runs (python -m etl)
    "feeds.title": ("Importuri de date: {city}", "Data feeds: {city}"),
    "feeds.caption": (
        "Fiecare import (python -m etl): rânduri citite = inserate + actualizate + neschimbate"
        " + respinse. Ore în ora orașului.",
        "Every import (python -m etl): rows read = inserted + updated + unchanged + rejected."
        " Times in the city's time zone.",
    ),
    "feeds.empty": (
        "Niciun import încă. Încărcați un fișier cu `python -m etl load FIȘIER --city ORAȘ"
        " --mapping MAPARE`.",
        "No imports yet. Load a file with `python -m etl load FILE --city CITY"
        " --mapping MAPPING`.",
    ),
    "feeds.pick": ("Importul", "Run"),
    "feeds.run": (
        "#{run} · {source} · {started} · {status}", "#{run} · {source} · {started} · {status}"
    ),
    "feeds.error": ("Eroarea", "Error"),
    "feeds.aborted": (
        "Încărcarea s-a oprit înainte de final (procesul ei a fost întrerupt). Rândurile"
        " loturilor încheiate sunt păstrate; aceeași comandă, rulată din nou, o termină.",
        "The load stopped before its end (its process was interrupted). The rows of its"
        " finished batches are kept; the same command, run again, completes it.",
    ),
    "feeds.failed_at": (
        "Lotul care începe la rândul {row} a fost refuzat; rândurile dinaintea lui sunt"
        " păstrate. Cauza: {detail}",
        "The batch starting at row {row} was refused; the rows before it are kept."
        " The cause: {detail}",
    ),
    "feeds.no_rejects": (
        "Niciun rând respins în acest import.", "No row was rejected in this run."
    ),
    "feeds.reasons": ("Rânduri respinse, pe motive", "Rejected rows by reason"),
    "feeds.rows": ("Rândurile respinse (primele {shown})", "The rejected rows (first {shown})"),
    "feeds.rows_all": ("Rândurile respinse ({shown})", "The rejected rows ({shown})"),
    "feeds.more": (
        "Lista completă: `python -m etl rejects {run} --city {city} --csv FIȘIER --lang ro`.",
        "The full list: `python -m etl rejects {run} --city {city} --csv FILE`.",
    ),
    "col.run_id": ("Import", "Run"),
    "col.source": ("Sursa", "Source"),
    "col.file_name": ("Fișier sau adresă", "File or URL"),
    "col.started": ("Început", "Started"),
    "col.seconds": ("Durată (s)", "Duration (s)"),
    "col.rows_read": ("Citite", "Read"),
    "col.rows_inserted": ("Inserate", "Inserted"),
    "col.rows_updated": ("Actualizate", "Updated"),
    "col.rows_unchanged": ("Neschimbate", "Unchanged"),
    "col.rows_rejected": ("Respinse", "Rejected"),
    "col.reason": ("Motiv", "Reason"),
    "col.rows": ("Rânduri", "Rows"),
    "col.source_row": ("Rândul din sursă", "Source row"),
    "col.message": ("Detalii", "Details"),
    # why the ETL refused a row (etl.messages.REASONS)
    "reject.malformed_row": ("rând deformat", "malformed row"),
    "reject.bad_encoding": ("altă codificare a textului", "another text encoding"),
    "reject.missing_external_id": ("lipsește id-ul din sursă", "no id in the source"),
    "reject.external_id_too_long": ("id prea lung", "id too long"),
    "reject.duplicate_external_id": ("id repetat în fișier", "id repeated in the file"),
    "reject.missing_date": ("lipsește data", "no date"),
    "reject.bad_date": ("dată ilizibilă", "unreadable date"),
    "reject.nonexistent_local_time": (
        "oră inexistentă (trecerea la ora de vară)", "time that does not exist (DST change)"
    ),
    "reject.ambiguous_local_time": (
        "oră ambiguă (trecerea la ora de iarnă)", "ambiguous time (DST change)"
    ),
    "reject.closed_before_created": ("închisă înainte de creare", "closed before created"),
    "reject.closed_without_date": (
        "închisă fără dată de închidere", "closed without a closing date"
    ),
    "reject.date_in_future": ("dată în viitor", "date in the future"),
    "reject.missing_coordinates": ("lipsesc coordonatele", "no coordinates"),
    "reject.bad_coordinates": ("coordonate greșite", "bad coordinates"),
    "reject.outside_boundary": ("în afara orașului", "outside the city"),
    "reject.unknown_category": ("categorie necunoscută", "unknown category"),
    "reject.description_too_long": ("descriere prea lungă", "description too long"),
    "reject.address_too_long": ("adresă prea lungă", "address too long"),
    "reject.resolution_too_long": ("soluție prea lungă", "resolution too long"),
    "reject.missing_registry_number": ("lipsește numărul de registru", "no registry number"),
    "reject.bad_registry_number": ("număr de registru greșit", "bad registry number"),
    "reject.duplicate_registry_number": (
        "număr de registru repetat în fișier", "registry number repeated in the file"
    ),
    "reject.registry_number_taken": (
        "număr de registru deja folosit", "registry number already used"
    ),
    "reject.registry_number_changed": (
        "număr de registru schimbat", "registry number changed"
    ),
    "feed_status.running": ("În curs", "Running"),
    "feed_status.succeeded": ("Reușit", "Succeeded"),
    "feed_status.failed": ("Eșuat", "Failed"),
    "feed_status.aborted": ("Întrerupt", "Aborted"),
    "queue.title": ("Lucrări de făcut: {scope}", "Work queue: {scope}"),
    "queue.city_wide": ("tot orașul", "whole city"),
    "queue.statuses": ("Stări", "Statuses"),
    "queue.overdue_only": ("Doar depășite", "Overdue only"),
    "queue.sort": ("Ordonare", "Sort by"),
    "queue.sort_age": ("Cele mai vechi întâi", "Oldest first"),
    "queue.sort_overdue": ("Depășite întâi", "Overdue first"),
    "queue.sort_reported": ("Cele mai semnalate întâi", "Most reported first"),
    "queue.empty": ("Nimic de făcut aici.", "Nothing to do here."),
    "queue.not_found": (
        "Nicio sesizare din selecție nu se potrivește căutării.",
        "No incident of the selection matches the search.",
    ),
    "queue.first_age": (
        "Cele mai vechi {n} din {count}; restrângeți selecția de mai sus pentru celelalte.",
        "The oldest {n} of {count}; narrow the selection above for the others.",
    ),
    "queue.first_reported": (
        "Cele mai semnalate {n} din {count}; restrângeți selecția de mai sus pentru celelalte.",
        "The {n} most reported of {count}; narrow the selection above for the others.",
    ),
    "queue.first_overdue": (
        "Cele mai depășite {n} din {count}; restrângeți selecția de mai sus pentru celelalte.",
        "The {n} furthest past their target of {count}; narrow the selection above for the"
        " others.",
    ),
    "count.incident": ("sesizare", "incident"),
    "count.incidents": ("sesizări", "incidents"),
    "queue.open_hint": (
        "Selectați un rând pentru a deschide fișa sesizării.",
        "Select a row to open the incident.",
    ),
    "queue.download": ("Descarcă CSV", "Download CSV"),
    "col.registry_number": ("Număr", "Number"),
    "col.category": ("Categorie", "Category"),
    "col.status": ("Stare", "Status"),
    "col.age_days": ("Vechime (zile)", "Age (days)"),
    "col.overdue": ("Depășită", "Overdue"),
    "col.supporters": ("Semnalări în plus", "More reports"),
    "col.assignee": ("Responsabil", "Assignee"),
    "col.district": ("Cartier", "District"),
    "col.address": ("Adresă", "Address"),
    "col.description": ("Descriere", "Description"),
    # incident detail and actions
    "incident.title": ("Sesizarea {number}", "Incident {number}"),
    "incident.choose": ("Numărul sesizării", "Incident number"),
    "incident.hint": (
        "Scrieți numărul din registru (de exemplu LUG-2026-000123) sau alegeți o sesizare"
        " din lista de lucrări.",
        "Type its registry number (for example LUG-2026-000123) or pick an incident in the"
        " work queue.",
    ),
    "incident.contact": ("Contact reclamant", "Reporter contact"),
    "incident.no_contact": ("Fără date de contact (anonim).", "No contact details (anonymous)."),
    "incident.history": ("Istoric complet", "Full history"),
    "incident.photos": ("Fotografii", "Photos"),
    "photo.report": ("de la cetățean", "from the citizen"),
    "photo.resolution": ("după rezolvare", "after the fix"),
    "incident.actions": ("Acțiuni", "Actions"),
    "incident.action": ("Acțiune", "Action"),
    "incident.text": (
        "Text (obligatoriu la rezolvare, respingere, redeschidere)",
        "Text (required to resolve, reject, reopen)",
    ),
    "incident.duplicate_of": ("Dublură a (număr)", "Duplicate of (number)"),
    "incident.resolution_photos": ("Fotografii după rezolvare", "Photos after the fix"),
    "incident.apply": ("Aplică", "Apply"),
    "incident.done": ("Gata: {status}.", "Done: {status}."),
    "incident.assign": ("Repartizează", "Assign"),
    "incident.assignee": ("Persoana", "Person"),
    "incident.choose_person": ("Alegeți persoana", "Choose the person"),
    "incident.given_to": ("către {name}", "to {name}"),
    "admin.choose_department": ("Alegeți compartimentul", "Choose the department"),
    "incident.reroute": ("Redirecționează", "Re-route"),
    "incident.new_category": ("Categorie nouă", "New category"),
    "incident.reason": ("Motiv", "Reason"),
    "incident.note": ("Notă sau informare publică", "Note or public update"),
    "incident.note_public": ("Vizibilă cetățeanului", "Visible to the citizen"),
    "incident.save": ("Salvează", "Save"),
    "incident.assigned": ("Sesizarea a fost dată lui {name}.", "The incident was given to {name}."),
    "incident.rerouted": (
        "Sesizarea a fost redirecționată: {category}, compartimentul {department}.",
        "The incident was re-routed: {category}, department {department}.",
    ),
    "incident.noted": ("Nota a fost salvată.", "The note was saved."),
    "incident.extended_now": (
        "Termenul a fost prelungit până la {when}.",
        "The term was extended to {when}.",
    ),
    "incident.forwarded_now": (
        "Sesizarea a fost redirecționată către {institution}.",
        "The incident was forwarded to {institution}.",
    ),
    "person.inactive": ("{name} (cont dezactivat)", "{name} (account disabled)"),
    "queue.mine": ("Doar ale mele", "Only mine"),
    "queue.search": (
        "Caută după număr, adresă sau descriere",
        "Search by number, address or description",
    ),
    "incident.photo_required": (
        "Orașul cere cel puțin o fotografie la rezolvare.",
        "The city requires at least one photo to resolve.",
    ),
    "action.acknowledged": ("Preia", "Acknowledge"),
    "action.started": ("Începe lucrul", "Start work"),
    "action.resolved": ("Rezolvă", "Resolve"),
    "action.closed": ("Închide", "Close"),
    "action.rejected": ("Respinge", "Reject"),
    "action.duplicate": ("Marchează dublură", "Mark duplicate"),
    "action.reopened": ("Redeschide", "Reopen"),
    # dispatcher
    "dispatch.title": ("Sesizare primită la dispecerat", "Report received by the dispatcher"),
    "dispatch.channel": ("Canal", "Channel"),
    "dispatch.email_help": (
        "Persoana primește aici numărul sesizării și fiecare pas: preluare, rezolvare, răspuns.",
        "The person receives the report's number here, and every step: taken up, fixed, answer.",
    ),
    "channel.phone": ("Telefon", "Phone"),
    "channel.email": ("E-mail", "E-mail"),
    "channel.counter": ("Ghișeu", "Counter"),
    "channel.web": ("Formular web", "Web form"),
    "actor.citizen": ("Cetățean", "Citizen"),
    "actor.reporter": ("Petentul", "The reporter"),
    "actor.registratura": ("Registratura", "Registry office"),
    "actor.retention": ("Ștergere la termen", "Retention period"),
    "actor.etl": ("Import {name}", "Import {name}"),
    "actor.open311": ("Aplicația {name}", "App {name}"),
    "channel.app": ("Aplicație (Open311)", "App (Open311)"),
    "channel.feed": ("Import de date", "Data feed"),
    "admin.inbox": ("E-mailuri primite", "E-mails received"),
    "admin.inbox_latest": (
        "Ultimul importat din căsuța primăriei: {at}.", "The latest imported from the city"
        " hall's mailbox: {at}.",
    ),
    "admin.inbox_never": (
        "Niciun e-mail importat încă: `python -m sesizari inbox import` citește căsuța"
        " primăriei (README, „Reports received by e-mail”).",
        "No e-mail imported yet: `python -m sesizari inbox import` reads the city hall's"
        " mailbox (README, \"Reports received by e-mail\").",
    ),
    "inbox_status.pending": ("De înregistrat", "To file"),
    "inbox_status.filed": ("Înregistrate ca sesizări", "Filed as reports"),
    "inbox_status.discarded": ("Puse deoparte", "Set aside"),
    "inbox.title": ("E-mailuri primite, de înregistrat: {n}", "E-mails received, to file: {n}"),
    "inbox.empty": (
        "Niciun e-mail nu așteaptă. Ele sosesc din căsuța primăriei"
        " (`python -m sesizari inbox import`).",
        "No e-mail is waiting. They come from the city hall's mailbox"
        " (`python -m sesizari inbox import`).",
    ),
    "report.photo_place": (
        "Am pus pe hartă locul în care a fost făcută fotografia dumneavoastră. Verificați-l"
        " (îl puteți muta cu un clic) și apăsați din nou „Trimite sesizarea”.",
        "The map now shows where your photo was taken. Check it (one click moves it) and"
        " press \"Send the report\" again.",
    ),
    "inbox.pick": ("E-mailul", "The e-mail"),
    "inbox.placed": (
        "Locul de pe hartă este cel în care a fost făcută fotografia trimisă (GPS-ul"
        " telefonului): verificați-l cu textul e-mailului înainte de a trimite.",
        "The place on the map is where the e-mailed picture was taken (the phone's GPS):"
        " check it against the e-mail's text before sending.",
    ),
    "inbox.has_place": ("📍 fotografia spune unde", "📍 the picture says where"),
    "inbox.take": ("Preia în formular", "Take it into the form"),
    "inbox.discard": ("Nu este o sesizare", "Not a report"),
    "inbox.discarded": ("E-mailul a fost pus deoparte.", "The e-mail was set aside."),
    "inbox.refused": (
        "Atașamente care nu sunt fotografii (sau nu au putut fi citite): {n}; le găsiți în"
        " căsuța de e-mail.",
        "Attachments that are not pictures (or could not be read): {n}; find them in the"
        " mailbox.",
    ),
    "inbox.taken": (
        "Înregistrați e-mailul „{subject}”: așezați problema pe hartă, alegeți categoria,"
        " verificați textul și trimiteți. Fotografiile lui ({photos}) se atașează sesizării.",
        "Filing the e-mail \"{subject}\": place the problem on the map, choose the category,"
        " check the text and send. Its pictures ({photos}) are attached to the report.",
    ),
    "inbox.release": ("Lasă e-mailul în listă", "Put the e-mail back in the list"),
    "dispatch.mail_lang": ("Limba e-mailurilor", "Language of the e-mails"),
    "dispatch.mail_lang_help": (
        "În ce limbă primește reclamantul numărul și răspunsurile, dacă a lăsat un e-mail.",
        "The language in which the reporter receives the number and the replies, if they left"
        " an e-mail address.",
    ),
    "mail_lang.both": ("Română și engleză", "Romanian and English"),
    "mail_lang.ro": ("Română", "Romanian"),
    "mail_lang.en": ("Engleză", "English"),
    "dispatch.consent": (
        "Reclamantul a fost de acord cu folosirea datelor de contact.",
        "The caller agreed to the use of their contact details.",
    ),
    # admin
    "admin.no_department": ("— (rol pe tot orașul)", "— (a city-wide role)"),
    "admin.route_category": ("Compartimentul unei categorii", "A category's department"),
    "admin.route_category_note": (
        "Se aplică sesizărilor noi; cele deja primite rămân unde sunt (redirecționați-le din fișa"
        " lor). Regulile pe zone au întâietate.",
        "Applies to new reports; those already received stay where they are (reroute them from"
        " their page). Area rules come first.",
    ),
    "admin.new_category": ("Categorie nouă", "New category"),
    "admin.create_category": ("Creează categoria", "Create the category"),
    "admin.sensitive": (
        "Sensibilă: locul se arată public doar aproximativ",
        "Sensitive: its place is shown publicly only approximately",
    ),
    "admin.targets": ("Termenele țintă", "Target times"),
    "admin.title": ("Administrare: {city}", "Administration: {city}"),
    "admin.users": ("Utilizatori", "Users"),
    "admin.categories": ("Categorii", "Categories"),
    "admin.rules": ("Reguli de repartizare", "Routing rules"),
    "admin.settings": ("Setări oraș", "City settings"),
    "admin.mail": ("E-mailuri", "E-mails"),
    "admin.mail_note": (
        "Cine lasă o adresă de e-mail primește numărul sesizării și fiecare schimbare de stare;"
        " un compartiment cu adresă primește sesizările repartizate lui."
        " Mesajele pleacă la rularea comenzii `python -m sesizari notify send`; un mesaj"
        " neprimit de server este reîncercat de cel mult 8 ori.",
        "Whoever leaves an e-mail address receives the report's number and each change of"
        " status; a department with an address receives the reports routed to it. The"
        " messages leave when `python -m sesizari notify send` runs; a message the server"
        " does not take is tried again, up to 8 times.",
    ),
    "admin.mail_off": (
        "Nu este configurat un server de e-mail: mesajele așteaptă. Setați {settings}.",
        "No mail server is configured: the messages wait. Set {settings}.",
    ),
    "admin.mail_problems": (
        "Ultimele mesaje eșuate sau reîncercate",
        "The latest messages that failed or are being retried",
    ),
    "admin.privacy": ("Date personale", "Personal data"),
    "admin.erase_title": (
        "Cerere de ștergere a datelor personale (GDPR, art. 17)",
        "Erasure request (GDPR art. 17)",
    ),
    "admin.erase_note": (
        "Se șterg datele de contact ale persoanei care a făcut sesizarea, fotografiile"
        " trimise de ea și textul sesizării (înlocuit cu un text fix). Rămân în registru"
        " numărul, datele, categoria, locul, starea, rezolvarea și istoricul. Cererea se"
        " scrie și în jurnalul ștergerilor, ca o copie de siguranță restaurată mai târziu"
        " să nu readucă datele.",
        "The reporter's contacts, the photos they sent and the report's text (replaced"
        " by a fixed text) are removed. The registry keeps the number, dates, category,"
        " place, status, the fix and the history. The request is also written to the"
        " erasure journal, so that a backup restored later does not bring the data back.",
    ),
    "admin.erase_number": (
        "Numărul de înregistrare al sesizării (de ex. {example})",
        "The report's registry number (e.g. {example})",
    ),
    "admin.erase_reason": (
        "Motivul sau numărul cererii de ștergere",
        "The reason, or the erasure request's own number",
    ),
    "admin.erase_confirm": (
        "Am verificat că cererea vine de la persoana care a făcut sesizarea",
        "I have checked that the request comes from the person who made the report",
    ),
    "admin.erase_button": ("Șterge datele personale", "Erase the personal data"),
    "admin.erase_unconfirmed": (
        "Bifați confirmarea: ștergerea nu se poate anula.",
        "Tick the confirmation: an erasure cannot be undone.",
    ),
    "admin.erased": ("{number}: s-au șters {what}.", "{number}: erased {what}."),
    "admin.erase_nothing": (
        "{number}: nu mai există date personale de șters.",
        "{number}: no personal data left to erase.",
    ),
    "admin.erasures": ("Ștergeri recente de date personale", "Recent removals of personal data"),
    "col.erased_at": ("Data", "When"),
    "col.erased_by": ("De către", "By"),
    "col.why": ("De ce", "Why"),
    "col.removed": ("Ce s-a șters", "What went"),
    "erased_why.request": ("cerere de ștergere", "erasure request"),
    "erased_why.reporter": (
        "cererea persoanei (fără e-mailuri)", "the reporter's request (no e-mails)"
    ),
    "erased_by.reporter": ("persoana care a făcut sesizarea", "the reporter"),
    "erased_by.retention": ("automat (`privacy expire`)", "automatic (`privacy expire`)"),
    "erased_why.retention": ("termen de păstrare depășit", "retention period over"),
    "erased_what.contacts": ("datele de contact", "the contacts"),
    "erased_what.photos": ("fotografiile trimise", "the photos sent"),
    "erased_what.description": ("textul sesizării", "the report's text"),
    "erased_what.email": ("adresa de e-mail", "the e-mail address"),
    "admin.mail_digests": (
        "Ultimele liste de dimineață cu sesizările peste termen (`notify digest`)",
        "The latest morning lists of reports past their target (`notify digest`)",
    ),
    "col.local_day": ("Ziua", "Day"),
    "col.sent_at": ("Trimisă", "Sent"),
    "mail_status.pending": ("De trimis", "To send"),
    "mail_status.sent": ("Trimise", "Sent"),
    "mail_status.failed": ("Eșuate", "Failed"),
    "mail_status.skipped": ("Fără adresă", "No address"),
    "mail_state.pending": ("De trimis", "To send"),
    "mail_state.retrying": ("Se reîncearcă", "Being retried"),
    "mail_state.failed": ("Eșuat", "Failed"),
    "admin.departments": ("Compartimente", "Departments"),
    "admin.create_department": ("Creează compartimentul", "Create the department"),
    "admin.code": ("Cod (litere mici, cifre, _)", "Code (lowercase letters, digits, _)"),
    "admin.name_ro": ("Nume în română", "Name in Romanian"),
    "admin.name_en": ("Nume în engleză", "Name in English"),
    "admin.new_user": ("Utilizator nou", "New user"),
    "admin.full_name": ("Nume complet", "Full name"),
    "admin.role": ("Rol", "Role"),
    "admin.department": ("Compartiment", "Department"),
    "admin.category": ("Categorie", "Category"),
    "admin.rename_department": ("Numele unui compartiment", "A department's names"),
    "admin.rename_category": ("Numele unei categorii", "A category's names"),
    "admin.create": ("Creează", "Create"),
    "admin.edit_user": ("Modificarea unui cont", "Changing an account"),
    "admin.edit_pick": ("Contul", "Account"),
    "admin.active": ("Poate intra în aplicație", "May sign in"),
    "admin.new_password": (
        "Parolă nouă (goală: rămâne cea de acum)", "New password (empty: the current one stays)"
    ),
    "admin.edit_note": (
        "Un cont nu se șterge: numele rămâne în istoricul sesizărilor. Pentru cine a plecat,"
        " debifați accesul. O schimbare de rol, compartiment, parolă sau acces îl scoate"
        " imediat din aplicație, pe orice dispozitiv.",
        "An account is never deleted: its name stays in the incidents' history. For someone"
        " who left, untick the access. A change of role, department, password or access signs"
        " the account out at once, on every device.",
    ),
    "admin.save_account": ("Salvează contul", "Save the account"),
    "admin.created": ("Creat.", "Created."),
    "admin.target_hours": ("Termen țintă (ore)", "Target (hours)"),
    "admin.target_of": ("{category}: termen țintă (ore)", "{category}: target (hours)"),
    "admin.rule_name": ("Nume regulă", "Rule name"),
    "admin.new_rule": ("Regulă nouă", "New rule"),
    "admin.rule_switch": (
        "Oprirea sau repornirea unei reguli (o regulă oprită nu mai repartizează sesizări noi)",
        "Stop or restart a rule (a stopped rule routes no new incidents)",
    ),
    # The hint under a field being typed in (widgets.input_hints_style).
    "hint.enter": ("Enter: {done}", "Enter: {done}"),
    "hint.ctrl_enter": ("Ctrl/⌘+Enter: {done}", "Ctrl/⌘+Enter: {done}"),
    "hint.apply": ("aplică", "apply"),
    "hint.submit": ("trimite formularul", "submit the form"),
    "upload.button": ("Încărcați", "Upload"),
    "upload.limit": ("cel mult {mb} MB pe fișier • {types}", "{mb} MB per file • {types}"),
    "admin.rule_area": ("Zonă (GeoJSON, opțional)", "Area (GeoJSON, optional)"),
    "admin.rule_assignee": (
        "Cine primește sesizările regulii (opțional)",
        "Who receives the rule's incidents (optional)",
    ),
    "admin.rule_nobody": (
        "Nimeni anume: șeful compartimentului le împarte",
        "Nobody in particular: the department's head hands them out",
    ),
    "admin.stopped_name": ("{name} (oprit)", "{name} (stopped)"),
    "admin.switch_department": (
        "Oprirea sau repornirea unui compartiment", "Stop or restart a department"
    ),
    "admin.switch_department_note": (
        "Un compartiment se oprește doar după ce categoriile, regulile, conturile active și"
        " sesizările deschise au fost mutate la altul. Nu se șterge: istoricul îl numește.",
        "A department stops only once its categories, rules, active accounts and open incidents"
        " have moved to another. It is never deleted: the history names it.",
    ),
    "admin.switch_category": (
        "Oprirea sau repornirea unei categorii", "Stop or restart a category"
    ),
    "admin.switch_category_note": (
        "O categorie oprită nu mai este oferită cetățenilor, dispecerilor și fluxurilor de date."
        " Sesizările ei rămân unde sunt, cu istoricul lor, și se numără în statistici.",
        "A stopped category is no longer offered to citizens, dispatchers or data feeds. Its"
        " incidents stay where they are, with their history, and count in the statistics.",
    ),
    "setting.resolution_photo_required": (
        "Rezolvarea cere cel puțin o fotografie după intervenție",
        "Resolving requires at least one photo after the fix",
    ),
    "setting.work_anonymous": (
        "Sesizările anonime se lucrează (altfel se clasează)",
        "Anonymous reports are worked (otherwise filed)",
    ),
    "setting.legal_reply_days": ("Termen legal de răspuns (zile)", "Legal reply term (days)"),
    "setting.verification_days": (
        "Zile în care cetățeanul poate confirma sau contesta",
        "Days in which the citizen may confirm or dispute",
    ),
    "setting.recurrence_days": (
        "Fereastra pentru probleme recurente (zile)",
        "Window for recurring problems (days)",
    ),
    "setting.recurrence_m": (
        "Distanța pentru probleme recurente (m)",
        "Distance for recurring problems (m)",
    ),
    "setting.public_precision_m": (
        "Generalizarea locației categoriilor sensibile (m)",
        "Location generalisation of sensitive categories (m)",
    ),
    "setting.contact_retention_days": (
        "Păstrarea datelor de contact după răspuns (zile)",
        "Keep reporters' contacts after the answer (days)",
    ),
    "admin.save_settings": ("Salvează setările", "Save the settings"),
    "admin.saved": ("Salvat.", "Saved."),
    # analytics: filters
    "nav.analytics": ("Analiză", "Analytics"),
    "nav.resolution": ("Timpi de rezolvare", "Resolution times"),
    "nav.departments": ("Performanța compartimentelor", "Department performance"),
    "filter.any": ("Toate", "All"),
    "filter.period": ("Perioada (data înregistrării)", "Period (registration date)"),
    "filter.categories": ("Categorii", "Categories"),
    "filter.departments": ("Compartimente", "Departments"),
    "filter.statuses": ("Stări", "Statuses"),
    "filter.districts": ("Cartiere", "Districts"),
    "filter.scope": (
        "Vedeți doar compartimentul: {department}",
        "You see only department: {department}",
    ),
    # analytics: live map
    "kpi.open": ("Deschise acum", "Open now"),
    "kpi.new_today": ("Noi azi", "New today"),
    "kpi.overdue": ("Depășite (față de termen)", "Overdue (vs target)"),
    "kpi.median_resolution_hours_30d": (
        "Mediana rezolvării, 30 zile (ore)",
        "Median resolution, 30 days (hours)",
    ),
    "kpi.help": ("Față de {previous}", "Compared with {previous}"),
    "layer.label": ("Strat", "Layer"),
    "live.title": ("Harta sesizărilor: {city}", "Incident map: {city}"),
    "layer.hexagons": ("Densitate (hexagoane)", "Density (hexagons)"),
    "layer.clusters": ("Aglomerări (DBSCAN)", "Clusters (DBSCAN)"),
    "layer.hotspots": ("Zone fierbinți (Gi*)", "Hot spots (Gi*)"),
    "layer.points": ("Sesizări individuale", "Individual incidents"),
    "layer.districts": ("Limitele cartierelor", "District boundaries"),
    "layer.eps": ("Distanța de grupare (m)", "Clustering distance (m)"),
    "layer.min_points": ("Mărimea minimă a grupului", "Minimum cluster size"),
    "layer.too_many": (
        "Sunt {count} în selecție: prea multe pentru puncte. Restrângeți filtrele "
        "(cel mult {limit}) sau folosiți hexagoanele.",
        "There are {count} in the selection: too many for points. Narrow the filters "
        "(at most {limit}) or use hexagons.",
    ),
    "layer.clusters_table": (
        "Aglomerări: număr, categorie dominantă, cartier",
        "Clusters: count, dominant category, district",
    ),
    "layer.clusters_grid": (
        "Selecție mare: aglomerările sunt calculate pe o grilă de celule de {side} m "
        "(aproximarea DBSCAN pe grilă). Restrângeți filtrele sub {limit} sesizări pentru "
        "DBSCAN exact.",
        "Large selection: clusters are computed on a grid of {side} m cells (the grid "
        "approximation of DBSCAN). Narrow the filters below {limit} incidents for exact DBSCAN.",
    ),
    "layer.legend_gi": (
        "Roșu: zone fierbinți (mai multe sesizări decât în jur, semnificativ statistic "
        "la 90/95/99%); "
        "albastru: zone reci.",
        "Red: hot spots (more incidents than around them, statistically significant at 90/95/99%); "
        "blue: cold spots.",
    ),
    "gi.hot": ("fierbinte", "hot"),
    "gi.cold": ("rece", "cold"),
    "refresh.every": ("Actualizare automată (secunde)", "Auto-refresh (seconds)"),
    "refresh.pause": ("Pauză actualizare", "Pause refresh"),
    "refresh.last": (
        "Actualizat la {time}; sesizări noi de la actualizarea anterioară: {new}.",
        "Updated at {time}; new incidents since the previous update: {new}.",
    ),
    # Counts in tooltips follow a label ("Sesizări: 1"): a hexagon of one
    # incident read "1 sesizări (1 deschise)".
    "tooltip.hex": ("Sesizări: {n} (deschise: {n_open})", "Incidents: {n} (open: {n_open})"),
    "tooltip.cluster": (
        "Grup · sesizări: {n} · {dominant_category} · {dominant_district}",
        "Cluster · incidents: {n} · {dominant_category} · {dominant_district}",
    ),
    "tooltip.gi": ("{class} (z = {z_text})", "{class} (z = {z_text})"),
    "tooltip.point": (
        "{registry_number} · {category} · {status_label} · înregistrată acum {age}",
        "{registry_number} · {category} · {status_label} · registered {age} ago",
    ),
    "download.csv": ("Descarcă CSV", "Download CSV"),
    "table.empty": (
        "Nimic de arătat pentru selecția aceasta.", "Nothing to show for this selection."
    ),
    # analytics: resolution page
    "res.title": ("Timpi de confirmare și rezolvare", "Time to acknowledge and to resolve"),
    "res.partial_weeks": (
        "Săptămâni prinse doar în parte în perioada aleasă (numără mai puține zile): {weeks}.",
        "Weeks the chosen period covers only in part (fewer days counted): {weeks}.",
    ),
    "res.by": ("Grupare", "Group by"),
    "res.by.category": ("categorie", "category"),
    "res.by.department": ("compartiment", "department"),
    "res.by.district": ("cartier", "district"),
    "res.table": ("Mediană, p90 și medie (ore), pe {by}", "Median, p90 and mean (hours), by {by}"),
    "res.trend": (
        "Evoluție săptămânală: mediana rezolvării (ore)",
        "Weekly trend: median time to resolve (hours)",
    ),
    "res.trend_counts": (
        "Evoluție săptămânală: sesizări primite și rezolvate (număr)",
        "Weekly trend: incidents received and resolved (count)",
    ),
    "res.distribution": (
        "Distribuția timpului de rezolvare (număr de sesizări pe interval de ore)",
        "Distribution of time to resolve (incidents per hour range)",
    ),
    "res.within": (
        "Rezolvate în termenul categoriei (%), pe {by}",
        "Resolved within the category target (%), by {by}",
    ),
    "res.backlog": (
        "Vechimea sesizărilor deschise, pe compartiment (număr)",
        "Age of open incidents, by department (count)",
    ),
    "res.sampled": (
        "Mediana și p90 ale grupurilor cu peste {limit} sesizări sunt estimate dintr-un"
        " eșantion fix de o sesizare din {rate} (de obicei la 1-2 % de valoarea exactă, rar"
        " până la 5 %)."
        " Numărul, media și ponderea în termen sunt exacte.",
        "Medians and p90s of groups of more than {limit} incidents are estimated from a"
        " fixed sample of one incident in {rate} (usually within 1-2 % of the exact value,"
        " rarely up to 5 %)."
        " Counts, means and shares within target are exact.",
    ),
    "res.choropleth": (
        "Mediana timpului de rezolvare pe cartier (ore)",
        "Median time to resolve by district (hours)",
    ),
    "col.n": ("Sesizări", "Incidents"),
    "col.ack_median_h": ("Confirmare mediană (h)", "Ack median (h)"),
    "col.ack_p90_h": ("Confirmare p90 (h)", "Ack p90 (h)"),
    "col.ack_mean_h": ("Confirmare medie (h)", "Ack mean (h)"),
    "col.n_resolved": ("Rezolvate", "Resolved"),
    "col.resolve_median_h": ("Rezolvare mediană (h)", "Resolve median (h)"),
    "col.resolve_p90_h": ("Rezolvare p90 (h)", "Resolve p90 (h)"),
    "col.resolve_mean_h": ("Rezolvare medie (h)", "Resolve mean (h)"),
    "col.name": ("Nume", "Name"),
    "col.share_within": ("În termen (%)", "Within target (%)"),
    "col.week": ("Săptămâna", "Week"),
    "col.received": ("Primite", "Received"),
    "col.resolved": ("Rezolvate", "Resolved"),
    "col.hours": ("Ore", "Hours"),
    "col.bin": ("Interval (ore)", "Range (hours)"),
    "col.incidents": ("Sesizări", "Incidents"),
    "col.total": ("Total", "Total"),
    "col.lt_1d": ("< 1 zi", "< 1 day"),
    "col.d1_3": ("1–3 zile", "1–3 days"),
    "col.d3_7": ("3–7 zile", "3–7 days"),
    "col.d7_30": ("7–30 zile", "7–30 days"),
    "col.gt_30d": ("> 30 de zile", "> 30 days"),
    # analytics: departments page
    "dep.title": (
        "Performanța compartimentelor ({start} – {end})",
        "Department performance ({start} – {end})",
    ),
    "dep.rank": (
        "Locul: după procentul rezolvat în termenul categoriei, din sesizările primite și"
        " rezolvate în perioadă; la egalitate, după mediana mai scurtă a rezolvării."
        " Rezolvate: în perioadă, oricând au fost primite. Rata de rezolvare: partea"
        " rezolvată din cele primite în perioadă.",
        "Rank: by the share resolved within the category's target, of the incidents received"
        " and resolved in the period; on a tie, by the shorter median time to resolve."
        " Resolved: in the period, whenever received. Resolution rate: the share of the"
        " period's incidents that are resolved.",
    ),
    "dep.drill": ("Detalii compartiment", "Department details"),
    "dep.categories": ("Categoriile compartimentului", "The department's categories"),
    "dep.map": ("Harta compartimentului", "The department's map"),
    "dep.overdue": ("Cele mai vechi sesizări depășite", "Oldest overdue incidents"),
    "col.department": ("Compartiment", "Department"),
    "col.open": ("Deschise", "Open"),
    "col.resolution_rate": ("Rata de rezolvare (%)", "Resolution rate (%)"),
    "col.within_target_pct": ("În termen (%)", "Within target (%)"),
    "col.received_change": ("Δ primite", "Δ received"),
    "col.resolve_median_change_h": ("Δ mediană (h)", "Δ median (h)"),
    "col.within_target_change_pct": ("Δ în termen (p.p.)", "Δ within target (pp)"),
    "col.rank": ("Loc", "Rank"),
    "col.target_hours": ("Termen (h)", "Target (h)"),
    "col.sensitive": ("Sensibilă", "Sensitive"),
    "col.overdue_days": ("Depășire (zile)", "Overdue by (days)"),
    "col.created_at": ("Înregistrată", "Registered"),
    # open data
    "nav.open_data": ("Date deschise", "Open data"),
    "open.title": ("Date deschise: sesizările din {city}", "Open data: the reports of {city}"),
    "open.count": ("{count} în selecție", "{count} in the selection"),
    "open.aggregated": (
        "Selecția este mare: harta arată densitatea pe hexagoane. Restrângeți filtrele "
        "(cel mult {limit}) pentru a vedea fiecare sesizare.",
        "The selection is large: the map shows density on hexagons. Narrow the filters "
        "(at most {limit}) to see each report.",
    ),
    "open.sensitive": (
        "Locațiile categoriilor sensibile (ex. ordine publică) sunt generalizate la o grilă "
        "de {m} m. Datele nu conțin niciodată date personale.",
        "Locations of sensitive categories (e.g. public order) are generalised to a {m} m "
        "grid. The data never contains personal data.",
    ),
    "open.download": ("Descarcă selecția", "Download the selection"),
    "open.dictionary": ("Dicționarul datelor", "Data dictionary"),
    "open.licence": ("Licență", "Licence"),
    "open.licence_text": (
        "Creative Commons Atribuire 4.0 Internațional (CC BY 4.0),"
        " https://creativecommons.org/licenses/by/4.0/deed.ro: datele pot fi refolosite"
        " liber, inclusiv în scop comercial, cu citarea sursei: Primăria {city}, prin Sesizari.",
        "Creative Commons Attribution 4.0 International (CC BY 4.0),"
        " https://creativecommons.org/licenses/by/4.0/: reuse freely, including commercially,"
        " citing the source: the city hall of {city}, through Sesizari.",
    ),
    "col.column": ("Coloană", "Column"),
    "col.meaning": ("Semnificație", "Meaning"),
    "incident.personal_hidden": (
        "Nepublicată automat: descrierea pare să conțină un telefon, un e-mail, un CNP sau un"
        " număr de înmatriculare. Bifați după ce ați verificat-o.",
        "Not published automatically: the description seems to hold a phone number, an e-mail,"
        " a CNP or a number plate. Tick the box once you have checked it.",
    ),
    "incident.hide_description": (
        "Descrierea este publică (debifați dacă numește persoane, numere de mașini...)",
        "The description is public (untick if it names people, number plates...)",
    ),
    # accountability
    "nav.accountability": ("Răspundere", "Accountability"),
    "report.expected": (
        "Timp estimat de rezolvare: jumătate din sesizările similare se rezolvă în {p50}, "
        "80% în {p80}.",
        "Expected time to fix: half of similar reports are fixed within {p50}, 80% within {p80}.",
    ),
    "report.pin": (
        "Codul dumneavoastră PIN: {pin}. Păstrați-l: cu el confirmați sau contestați rezolvarea.",
        "Your PIN: {pin}. Keep it: you need it to confirm or dispute the fix.",
    ),
    "report.want_pin": (
        "Vreau un cod PIN ca să pot confirma sau contesta rezolvarea",
        "I want a PIN to confirm or dispute the fix",
    ),
    "hours.under_one": ("sub o oră", "under an hour"),
    "hours.one": ("1 oră", "1 hour"),
    "hours": ("{h} ore", "{h} hours"),
    "hours.de": ("{h} de ore", "{h} hours"),
    "days": ("{d} zile", "{d} days"),
    "track.legal_due_at": (
        "Termen legal de răspuns (OG 27/2002): {when}",
        "Legal reply deadline (OG 27/2002): {when}",
    ),
    "track.no_reply": (
        "Sesizare anonimă: nu se datorează un răspuns formal.",
        "Anonymous report: no formal reply is owed.",
    ),
    "track.forwarded": (
        "Redirecționată către {institution} la {when}.",
        "Forwarded to {institution} on {when}.",
    ),
    "track.stop_emails": (
        "Nu mai doriți e-mailuri despre această sesizare?",
        "No more e-mails about this report?",
    ),
    "track.stop_emails_note": (
        "Cu PIN-ul primit la înregistrare, ștergem adresa de e-mail lăsată la sesizare;"
        " sesizarea rămâne și o puteți urmări aici.",
        "With the PIN given when you reported, we remove the e-mail address left with the"
        " report; the report stays, and you can follow it here.",
    ),
    "track.stop_emails_button": ("Nu mai trimiteți e-mailuri", "Stop the e-mails"),
    "track.stop_emails_done": (
        "Adresa de e-mail a fost ștearsă: nu vă mai scriem despre această sesizare.",
        "The e-mail address is removed: we will not write to you about this report again.",
    ),
    "track.stop_emails_none": (
        "Sesizarea nu are o adresă de e-mail: nu primiți mesaje despre ea.",
        "The report has no e-mail address: no messages are sent about it.",
    ),
    "track.expected": (
        "Estimare la înregistrare: {p50} (80%: {p80})",
        "Estimate at registration: {p50} (80%: {p80})",
    ),
    "track.verify": ("A fost rezolvată cu adevărat?", "Was it really fixed?"),
    "track.pin": ("Codul PIN primit la înregistrare", "The PIN you received when reporting"),
    "track.confirm": ("Confirm rezolvarea", "I confirm the fix"),
    "track.dispute": ("Contest rezolvarea", "I dispute the fix"),
    "track.dispute_text": ("Ce nu este în regulă?", "What is wrong?"),
    "track.verdict_until": (
        "Cu codul PIN primit la înregistrare, o puteți confirma sau contesta până la {when}.",
        "With the PIN you received when reporting, you can confirm or dispute it until {when}.",
    ),
    "track.verdict_ended": (
        "Perioada de confirmare sau contestare s-a încheiat la {when}.",
        "The time to confirm or dispute it ended on {when}.",
    ),
    "track.verdict_confirmed": (
        "Petentul a confirmat această rezolvare.",
        "The reporter confirmed this fix.",
    ),
    "track.verdict_disputed": (
        "Petentul a contestat această rezolvare.",
        "The reporter disputed this fix.",
    ),
    "track.confirmed": (
        "Mulțumim, rezolvarea a fost confirmată.",
        "Thank you, the fix is confirmed.",
    ),
    "track.disputed": (
        "Contestația a fost înregistrată; sesizarea a fost redeschisă.",
        "Your dispute is recorded; the report was reopened.",
    ),
    "incident.legal": ("Termen legal", "Legal term"),
    "incident.registered": (
        "Înregistrată la {when}, canal: {channel}.",
        "Registered on {when}, channel: {channel}.",
    ),
    "incident.reply_due": (
        "Răspunsul către petent se dă până la {when} (OG 27/2002).",
        "The reply to the petitioner is due by {when} (OG 27/2002).",
    ),
    "incident.reply_overdue": (
        "Termenul legal de răspuns a trecut la {when}, fără răspuns.",
        "The legal reply term ran out on {when} without a reply.",
    ),
    "incident.extended": (" Termenul a fost prelungit o dată.", " The term was extended once."),
    "incident.answered": (
        "Petentul a primit răspuns la {when}.",
        "The petitioner was answered on {when}.",
    ),
    "incident.recurrence": (
        "Problema a reapărut aici după rezolvarea sesizării {number}.",
        "The problem came back here after report {number} was fixed.",
    ),
    "incident.extend": ("Prelungește termenul (+15 zile)", "Extend the term (+15 days)"),
    "incident.forward": ("Redirecționează către altă instituție", "Forward to another institution"),
    "incident.institution": ("Instituția", "Institution"),
    "role.staff": ("Angajat", "Staff"),
    "role.dept_head": ("Șef de compartiment", "Department head"),
    "role.dispatcher": ("Dispecer", "Dispatcher"),
    "role.manager": ("Conducere", "Manager"),
    "role.admin": ("Administrator", "Administrator"),
    # the Live map's clusters table: column headers
    "col.cluster": ("Aglomerare", "Cluster"),
    "col.n_open": ("Deschise", "Open"),
    "col.dominant_category": ("Categoria dominantă", "Dominant category"),
    "col.dominant_district": ("Cartierul dominant", "Dominant district"),
    # administration tables: column headers
    "col.code": ("Cod", "Code"),
    "col.name_ro": ("Nume în română", "Name in Romanian"),
    "col.name_en": ("Nume în engleză", "Name in English"),
    "col.email": ("E-mail", "E-mail"),
    "col.active": ("Activ", "Active"),
    "col.username": ("Utilizator", "User name"),
    "col.full_name": ("Nume complet", "Full name"),
    "col.role": ("Rol", "Role"),
    "col.has_area": ("Are zonă", "Has an area"),
    "col.area_km2": ("Suprafață (km²)", "Area (km²)"),
    # accountability tables: column headers
    "col.owed": ("Cu răspuns datorat", "Reply owed"),
    "col.overdue_now": ("Depășite acum", "Overdue now"),
    "col.due_next_7d": ("Scadente în 7 zile", "Due within 7 days"),
    "col.forwarded": ("Redirecționate", "Forwarded"),
    "col.forwarded_late": ("Redirecționate după 5 zile", "Forwarded after 5 days"),
    "col.answered": ("Cu răspuns", "Answered"),
    "col.answered_in_term": ("Răspuns în termen", "Answered in term"),
    "col.term_ended_or_answered": ("Termen expirat sau cu răspuns", "Term ended or answered"),
    "col.share_answered_in_term": ("Răspuns în termen (%)", "Answered in term (%)"),
    "col.closed": ("Închise", "Closed"),
    "col.confirmed": ("Confirmate", "Confirmed"),
    "col.disputed": ("Contestate", "Disputed"),
    "col.unverified": ("Neverificate", "Unverified"),
    "col.confirmed_share": ("Confirmate (%)", "Confirmed (%)"),
    "col.disputed_share": ("Contestate (%)", "Disputed (%)"),
    "col.recurrences": ("Repetări", "Recurrences"),
    "col.recurrence_rate": ("Rata de repetare (%)", "Recurrence rate (%)"),
    "col.within_p50": ("În estimarea p50", "Within the p50 estimate"),
    "col.within_p80": ("În estimarea p80", "Within the p80 estimate"),
    "col.share_within_p50": ("În estimarea p50 (%)", "Within the p50 estimate (%)"),
    "col.share_within_p80": ("În estimarea p80 (%)", "Within the p80 estimate (%)"),
    "col.about": ("Despre", "About"),
    "col.mail": ("E-mail către reclamant", "E-mail to the reporter"),
    "col.recipient": ("Către", "To"),
    "mail_to.reporter": ("Reclamant", "Reporter"),
    "admin.user_email_help": (
        "Primește un mesaj pentru fiecare sesizare dată acestui cont (de o regulă de"
        " repartizare sau de un coleg). Goală: niciun mesaj.",
        "Receives a message for each report given to this account (by a routing rule or by"
        " a colleague). Empty: no messages.",
    ),
    "admin.department_mail": ("E-mailul compartimentului", "The department's e-mail"),
    "admin.department_mail_note": (
        "Adresa primește un mesaj pentru fiecare sesizare repartizată compartimentului sau"
        " redirecționată către el (cu locul, adresa și descrierea, fără datele reclamantului)"
        " și, în fiecare dimineață, lista sesizărilor lui peste termen. Goală: niciun mesaj.",
        "The address receives a message for each report routed or re-routed to the department"
        " (with the place, the address and the description, never the reporter's details) and,"
        " each morning, the list of its reports past their target. Empty: no messages.",
    ),
    "mail_state.sent": ("Trimis la {at}", "Sent on {at}"),
    "mail_state.skipped": ("Fără adresă", "No address"),
    "col.attempts": ("Încercări", "Attempts"),
    "col.last_error": ("Răspunsul serverului", "The server's answer"),
    "col.next_attempt_at": ("Următoarea încercare", "Next attempt"),
    "col.queued_at": ("Pus la trimis", "Queued"),
    "acc.title": (
        "Răspundere: termene legale, verificare, probleme recurente, estimări",
        "Accountability: legal terms, verification, recurring problems, estimates",
    ),
    "acc.legal": (
        "Termene legale pe compartiment (OG 27/2002)",
        "Legal terms by department (OG 27/2002)",
    ),
    "acc.verification": (
        "Închise, confirmate, contestate, neverificate",
        "Closed, confirmed, disputed, unverified",
    ),
    "acc.recurrence": (
        "Probleme care revin (același loc, aceeași categorie)",
        "Problems that come back (same place, same category)",
    ),
    "acc.recurrence_map": (
        "Locuri cu probleme recurente (număr de reveniri)",
        "Places where problems recur (number of recurrences)",
    ),
    "acc.calibration": (
        "Calibrarea estimărilor: ponderea rezolvate înainte de estimare (țintă 50% / 80%)",
        "Estimate calibration: share resolved before the estimate (target 50% / 80%)",
    ),
    "acc.sample": ("Eșantion pentru verificare pe teren", "Sample for field verification"),
    "acc.share": ("Procent din sesizările rezolvate", "Share of resolved reports"),
    "acc.draw": ("Extrage eșantionul", "Draw the sample"),
    "acc.drawn": (
        "Eșantion {id}: {n} din {count} rezolvate.",
        "Sample {id}: {n} of {count} resolved.",
    ),
    "acc.outcome": ("Rezultatul verificării", "Check outcome"),
    "acc.fixed": ("rezolvată", "fixed"),
    "acc.not_fixed": ("nerezolvată", "not fixed"),
    "acc.record": ("Înregistrează", "Record"),
    "event.extended": ("Termen prelungit", "Term extended"),
    "event.forwarded": ("Redirecționată", "Forwarded"),
    "event.confirmed": ("Rezolvare confirmată de cetățean", "Fix confirmed by the citizen"),
    "event.disputed": ("Rezolvare contestată de cetățean", "Fix disputed by the citizen"),
    "event.verified": ("Verificată pe teren", "Checked in the field"),
    "event.erased": ("Date personale șterse", "Personal data erased"),
    "error": ("Eroare: {message}", "Error: {message}"),
}

MESSAGES: dict[str, dict[str, str]] = {
    "ro": {k: v[0] for k, v in _TEXTS.items()},
    "en": {k: v[1] for k, v in _TEXTS.items()},
}
