//! What the app adds to an event the client made: `capture`'s properties and
//! groups, `identify`'s person properties, `group`'s group properties.

use ff_telemetry_wire::Value;

/// An object's members, in their order.
pub type Members = Vec<(String, Value)>;

/// What the app adds to an event, each `None` when not given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppProperties {
    /// Event properties (the client's own win on a clash).
    pub properties: Option<Members>,
    /// Extra `$groups` for this event (the app's win over the client's).
    pub groups: Option<Members>,
    /// `$set` person properties.
    pub set: Option<Members>,
    /// `$set_once` person properties.
    pub set_once: Option<Members>,
    /// `$group_set` group properties.
    pub group_set: Option<Members>,
}

impl AppProperties {
    /// Whether the app gave nothing.
    pub fn is_empty(&self) -> bool {
        [
            &self.properties,
            &self.groups,
            &self.set,
            &self.set_once,
            &self.group_set,
        ]
        .iter()
        .all(|p| p.is_none())
    }

    /// Merges these into `event` (a capture event the client made) and
    /// returns whether it could: false when the event has no properties object.
    ///
    /// ```
    /// use ff_telemetry_browser::posthog::AppProperties;
    /// use ff_telemetry_wire::Value;
    /// let mut event: Value =
    ///     serde_json::from_str(r#"{"event":"e","properties":{"token":"t"}}"#).unwrap();
    /// let app = AppProperties {
    ///     properties: Some(vec![("plan".into(), "pro".into()), ("token".into(), "x".into())]),
    ///     ..AppProperties::default()
    /// };
    /// assert!(app.merge_into(&mut event));
    /// assert_eq!(
    ///     serde_json::to_string(&event).unwrap(),
    ///     r#"{"event":"e","properties":{"plan":"pro","token":"t"}}"#
    /// );
    /// ```
    pub fn merge_into(&self, event: &mut Value) -> bool {
        let Value::Object(members) = event else {
            return false;
        };
        let Some(Value::Object(client)) = members
            .iter_mut()
            .find(|(k, _)| k == "properties")
            .map(|(_, v)| v)
        else {
            return false;
        };
        let mut out = self.properties.clone().unwrap_or_default();
        let mut client_groups = None;
        for (key, value) in std::mem::take(client) {
            if key == "$groups" {
                client_groups = Some(value);
            } else {
                set(&mut out, key, value);
            }
        }
        let groups = match (client_groups, &self.groups) {
            (client, Some(app)) => {
                let mut all = match client {
                    Some(Value::Object(all)) => all,
                    _ => Members::new(),
                };
                for (key, value) in app {
                    set(&mut all, key.clone(), value.clone());
                }
                Some(Value::Object(all))
            }
            (client, None) => client,
        };
        if let Some(groups) = groups {
            set(&mut out, "$groups".to_owned(), groups);
        }
        for (name, value) in [
            ("$set", &self.set),
            ("$set_once", &self.set_once),
            ("$group_set", &self.group_set),
        ] {
            if let Some(value) = value {
                set(&mut out, name.to_owned(), Value::Object(value.clone()));
            }
        }
        *client = out;
        true
    }
}

/// Sets `key` in `members`, in place when it is there.
fn set(members: &mut Members, key: String, value: Value) {
    match members.iter_mut().find(|(k, _)| *k == key) {
        Some((_, slot)) => *slot = value,
        None => members.push((key, value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(properties: &str) -> Value {
        serde_json::from_str(&format!(r#"{{"event":"e","properties":{properties}}}"#)).unwrap()
    }

    fn members(json: &str) -> Option<Members> {
        match serde_json::from_str(json).unwrap() {
            Value::Object(m) => Some(m),
            _ => unreachable!(),
        }
    }

    fn properties_of(event: &Value) -> String {
        serde_json::to_string(event.get("properties").unwrap()).unwrap()
    }

    #[test]
    fn the_clients_properties_win_over_the_apps() {
        let mut e = event(r#"{"token":"t","$lib":"ff"}"#);
        let app = AppProperties {
            properties: members(r#"{"$lib":"mine","plan":"pro"}"#),
            ..AppProperties::default()
        };
        assert!(app.merge_into(&mut e));
        assert_eq!(
            properties_of(&e),
            r#"{"$lib":"ff","plan":"pro","token":"t"}"#
        );
    }

    #[test]
    fn groups_add_to_the_clients_and_win_per_type() {
        let mut e = event(r#"{"$groups":{"team":"a","org":"o"}}"#);
        let app = AppProperties {
            groups: members(r#"{"team":"b","project":"p"}"#),
            ..AppProperties::default()
        };
        assert!(app.merge_into(&mut e));
        assert_eq!(
            properties_of(&e),
            r#"{"$groups":{"team":"b","org":"o","project":"p"}}"#
        );
    }

    #[test]
    fn the_clients_groups_stay_when_the_app_gives_none() {
        let mut e = event(r#"{"$groups":{"team":"a"},"token":"t"}"#);
        let app = AppProperties {
            set: members(r#"{"email":"a@b"}"#),
            ..AppProperties::default()
        };
        assert!(app.merge_into(&mut e));
        assert_eq!(
            properties_of(&e),
            r#"{"token":"t","$groups":{"team":"a"},"$set":{"email":"a@b"}}"#
        );
    }

    #[test]
    fn person_and_group_properties_are_their_own_members() {
        let mut e = event(r#"{"$set":"client"}"#);
        let app = AppProperties {
            set: members(r#"{"a":1}"#),
            set_once: members(r#"{"b":2}"#),
            group_set: members(r#"{"c":3}"#),
            ..AppProperties::default()
        };
        assert!(!app.is_empty());
        assert!(app.merge_into(&mut e));
        assert_eq!(
            properties_of(&e),
            r#"{"$set":{"a":1},"$set_once":{"b":2},"$group_set":{"c":3}}"#
        );
    }

    #[test]
    fn an_event_without_properties_is_refused() {
        let mut e: Value = serde_json::from_str(r#"{"event":"e"}"#).unwrap();
        assert!(!AppProperties::default().merge_into(&mut e));
        assert!(AppProperties::default().is_empty());
    }
}
